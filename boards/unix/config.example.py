# make demo writes its own config.py for a freshly started server; this is for running
# boards/unix/main.py by hand against a server of yours.
M2X_KEY = "your master key (m2x_server prints it on first start)"
M2X_ENDPOINT = "http://127.0.0.1:8080"
