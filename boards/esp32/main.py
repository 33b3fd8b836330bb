# The device loop: read the sensor, post readings in batches, act on commands. The clock
# starts at 2000-01-01 after boot: the loop takes the server's time as soon as it can.
import config
import wifi
from app import device_loop
from m2x_micro import M2XClient

client = M2XClient(config.M2X_KEY, config.M2X_ENDPOINT, timeout=10)
print("posting to device %s at %s" % (config.DEVICE_ID, config.M2X_ENDPOINT))
device_loop(client, config.DEVICE_ID, every_s=config.EVERY_S, batch=config.BATCH,
            rounds=getattr(config, "ROUNDS", None), online=wifi.online)
