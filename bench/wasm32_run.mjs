// Runs a Python expression on a 32-bit MicroPython and prints its value: the webassembly
// port, whose objects have the sizes of a 32-bit board's (ESP32 and friends) where the
// unix port's are 64-bit. The files are copied to /bench, the first entry of sys.path.
//   node bench/wasm32_run.mjs PORT_DIR EXPRESSION FILE...
// PORT_DIR: where npm put @micropython/micropython-webassembly-pyscript (make bench does).
import fs from "fs";
import path from "path";

const [portDir, expression, ...files] = process.argv.slice(2);
const { loadMicroPython } = await import(path.resolve(portDir, "micropython.mjs"));
const mp = await loadMicroPython({ heapsize: 256 * 1024, stdout: (line) => console.log(line) });
mp.FS.mkdir("/bench");
for (const file of files) {
  mp.FS.writeFile("/bench/" + path.basename(file), fs.readFileSync(file));
}
mp.runPython("import sys\nsys.path.insert(0, '/bench')\nprint(" + expression + ")");
