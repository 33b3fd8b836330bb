# The device loop: read the sensor, post readings in batches, act on commands.
import config
from app import device_loop
from m2x_micro import M2XClient, M2XError

client = M2XClient(config.M2X_KEY, config.M2X_ENDPOINT, timeout=10)
try:
    # The clock starts at 2000-01-01 after boot: take the server's time, and keep it in the RTC.
    print("clock corrected by %d ms" % client.sync_time(set_rtc=True))
except M2XError as e:
    print("no server time yet (%s): readings are stamped by the board's clock" % e)
print("posting to device %s at %s" % (config.DEVICE_ID, config.M2X_ENDPOINT))
device_loop(client, config.DEVICE_ID, every_s=config.EVERY_S, batch=config.BATCH, rounds=getattr(config, "ROUNDS", None))
