# make demo writes its own config.py for a freshly started server; this is for running
# boards/unix/main.py by hand against a server of yours.
M2X_KEY = "your master key (m2x_server prints it on first start)"
M2X_ENDPOINT = "http://127.0.0.1:8080"
# For an https server (python -m m2x_server.certs makes a CA and a certificate):
# M2X_ENDPOINT = "https://localhost:8443"
# CA = "ca.der"
