# make demo's job: a fresh server, the unix board's app on MicroPython, the server stopped.
import re
import socket
import subprocess

from micropython_tools import ROOT


def test_demo_runs_the_scenario_and_stops_the_server():
    subprocess.run(["make", "-s", "mpy"], cwd=str(ROOT), check=True)
    done = subprocess.run(["bash", "boards/unix/demo.sh"], cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert re.search(r'created device "RNG Device Example" \(id [0-9a-f]{32}\)', out)
    posted = re.search(r"posted 10 random values: ((?:\d+ ?){10})$", out, re.M).group(1).split()
    read_back = re.findall(r"^  (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)  (\S+)$", out, re.M)
    assert [int(float(v)) for _, v in read_back] == [int(v) for v in reversed(posted)]  # newest first
    assert "stats of \"values\": count 15," in out
    assert 'processed "SAY_HELLO"' in out and 'rejected "SELF_DESTRUCT"' in out
    # The field part: readings queue on flash while the server is away, and all arrive.
    field = out.split("--- the field part")[1]
    assert re.findall(r"took 5 readings: (\d+) queued", field) == ["5", "5", "10", "15"], field
    assert len(re.findall(r"delivery failed \(.*\): \d+ readings kept", field)) == 2, field
    assert re.findall(r"delivered (\d+) readings", field) == ["5", "15"], field
    assert "20 of 20 readings arrived, each once with its stamp and value (20 on the server since the first)" in field
    port = int(re.search(r"m2x_server started on http://127.0.0.1:(\d+)", out).group(1))
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server still listens"


def test_make_n_deploy_shows_the_mpremote_commands():
    done = subprocess.run(["make", "-n", "deploy", "BOARD=esp32", "PORT=/dev/ttyUSB7"], cwd=str(ROOT),
                          capture_output=True, text=True, check=True)
    out = done.stdout
    assert "mpremote connect /dev/ttyUSB7" in out
    for copy in ("cp -r build/m2x_micro :", "cp build/app.mpy :app.mpy", "cp build/battery.mpy :battery.mpy",
                 "cp build/client.mpy :client.mpy",
                 "cp boards/esp32/config.py :config.py",
                 "cp boards/esp32/wifi.py :wifi.py", "cp boards/esp32/boot.py :boot.py", "cp boards/esp32/main.py :main.py", "reset"):
        assert copy in out
