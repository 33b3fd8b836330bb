// Runs a Python expression on a 32-bit MicroPython and prints its value: the webassembly
// port, whose objects have the sizes of a 32-bit board's (ESP32 and friends) where the
// unix port's are 64-bit. The files are copied to /bench, the first entry of sys.path; a
// folder (a package such as build/m2x_micro) with its files.
//   node bench/wasm32_run.mjs PORT_DIR EXPRESSION FILE_OR_FOLDER...
// PORT_DIR: where npm put @micropython/micropython-webassembly-pyscript (make bench does).
import fs from "fs";
import path from "path";

const [portDir, expression, ...files] = process.argv.slice(2);
const { loadMicroPython } = await import(path.resolve(portDir, "micropython.mjs"));
const mp = await loadMicroPython({ heapsize: 256 * 1024, stdout: (line) => console.log(line) });

function copy(from, to) {
  if (fs.statSync(from).isDirectory()) {
    mp.FS.mkdir(to);
    for (const name of fs.readdirSync(from)) copy(path.join(from, name), to + "/" + name);
  } else {
    mp.FS.writeFile(to, fs.readFileSync(from));
  }
}

mp.FS.mkdir("/bench");
for (const file of files) copy(file, "/bench/" + path.basename(file));
mp.runPython("import sys\nsys.path.insert(0, '/bench')\nprint(" + expression + ")");
