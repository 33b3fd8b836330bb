"""Every endpoint: method, path template, handler, and who may call it (auth.py)."""

from functools import partial

from . import auth, console
from .resources import (
    account,
    collections,
    commands,
    devices,
    distributions,
    jobs,
    keys,
    location,
    metadata,
    streams,
    values,
)
from .routing import Route

DEVICE = "/v2/devices/{device}"
STREAM = DEVICE + "/streams/{stream}"
DISTRIBUTION = "/v2/distributions/{distribution}"
COLLECTION = "/v2/collections/{collection}"


def _metadata_routes(prefix, table, reader, writer):
    return [
        Route("GET", prefix + "/metadata", partial(metadata.read_metadata, table), reader),
        Route("PUT", prefix + "/metadata", partial(metadata.update_metadata, table), writer),
        Route("GET", prefix + "/metadata/{field}", partial(metadata.read_field, table), reader),
        Route("PUT", prefix + "/metadata/{field}", partial(metadata.update_field, table), writer),
    ]


ROUTES = [
    # The web console (m2x_server/console/): static pages that call the API below from the browser
    Route("GET", "/", console.index, auth.public),
    Route("GET", "/console/{file}", console.asset, auth.public),
    # Account
    Route("GET", "/v2/status", account.status, auth.public),
    Route("GET", "/v2/time", account.time, auth.any_key),
    Route("GET", "/v2/time/seconds", account.time_seconds, auth.any_key),
    Route("GET", "/v2/time/millis", account.time_millis, auth.any_key),
    Route("GET", "/v2/time/iso8601", account.time_iso8601, auth.any_key),
    Route("GET", "/v2/jobs", jobs.list_jobs, auth.master),
    Route("GET", "/v2/jobs/{job}", jobs.get_job, auth.job_reader),
    Route("GET", "/exports/{file}", jobs.download_export, auth.public),
    # Devices
    Route("GET", "/v2/devices", devices.list_devices, auth.master),
    Route("POST", "/v2/devices", devices.create_device, auth.master),
    Route("GET", "/v2/devices/search", devices.list_devices, auth.master),
    Route("POST", "/v2/devices/search", devices.list_devices, auth.master),
    Route("GET", "/v2/devices/catalog", devices.catalog, auth.public),
    Route("GET", "/v2/devices/tags", devices.device_tags, auth.master),
    Route("GET", DEVICE, devices.get_device, auth.device_member),
    Route("PUT", DEVICE, devices.update_device, auth.device_admin),
    Route("DELETE", DEVICE, devices.delete_device, auth.device_admin),
    Route("GET", DEVICE + "/log", devices.request_log, auth.device_member),
    *_metadata_routes(DEVICE, "devices", auth.device_member, auth.device_member),
    # Location
    Route("GET", DEVICE + "/location", location.get_location, auth.device_member),
    Route("PUT", DEVICE + "/location", location.update_location, auth.device_member),
    Route("GET", DEVICE + "/location/waypoints", location.list_waypoints, auth.device_member),
    Route("DELETE", DEVICE + "/location/waypoints", location.delete_waypoints, auth.device_member),
    # Device values
    Route("POST", DEVICE + "/update", values.post_update, auth.device_member),
    Route("POST", DEVICE + "/updates", values.post_updates, auth.device_member),
    Route("GET", DEVICE + "/values", values.device_values, auth.device_member),
    Route("GET", DEVICE + "/values/export.csv", values.export_values, auth.device_member),
    Route("POST", DEVICE + "/values/search", values.values_search, auth.device_member),
    Route("GET", DEVICE + "/values/search", values.values_search, auth.device_member),
    # Streams
    Route("GET", DEVICE + "/streams", streams.list_streams, auth.device_member),
    Route("GET", STREAM, streams.get_stream, auth.device_member),
    Route("PUT", STREAM, streams.put_stream, auth.device_member),
    Route("DELETE", STREAM, streams.delete_stream, auth.device_member),
    Route("GET", STREAM + "/values", streams.list_values, auth.device_member),
    Route("POST", STREAM + "/values", streams.post_values, auth.device_member),
    Route("DELETE", STREAM + "/values", streams.delete_values, auth.device_member),
    Route("PUT", STREAM + "/value", streams.put_value, auth.device_member),
    Route("GET", STREAM + "/sampling", streams.sampling, auth.device_member),
    Route("GET", STREAM + "/stats", streams.stats, auth.device_member),
    # Commands, as the device sees them
    Route("GET", DEVICE + "/commands", commands.list_device_commands, auth.device_member),
    Route("GET", DEVICE + "/commands/{command}", commands.get_device_command, auth.device_member),
    Route("POST", DEVICE + "/commands/{command}/process", commands.process_command, auth.device_member),
    Route("POST", DEVICE + "/commands/{command}/reject", commands.reject_command, auth.device_member),
    # Commands, as the account sends them
    Route("GET", "/v2/commands", commands.list_commands, auth.master),
    Route("POST", "/v2/commands", commands.send_command, auth.master),
    Route("GET", "/v2/commands/{command}", commands.get_command, auth.master),
    # Distributions
    Route("GET", "/v2/distributions", distributions.list_distributions, auth.master),
    Route("POST", "/v2/distributions", distributions.create_distribution, auth.master),
    Route("GET", DISTRIBUTION, distributions.get_distribution, auth.distribution_member),
    Route("PUT", DISTRIBUTION, distributions.update_distribution, auth.distribution_admin),
    Route("DELETE", DISTRIBUTION, distributions.delete_distribution, auth.distribution_admin),
    Route("GET", DISTRIBUTION + "/devices", distributions.list_devices, auth.distribution_member),
    Route("POST", DISTRIBUTION + "/devices", distributions.add_device, auth.distribution_member),
    *_metadata_routes(DISTRIBUTION, "distributions", auth.distribution_member, auth.distribution_admin),
    # Collections
    Route("GET", "/v2/collections", collections.list_collections, auth.master),
    Route("POST", "/v2/collections", collections.create_collection, auth.master),
    Route("GET", COLLECTION, collections.get_collection, auth.collection_member),
    Route("PUT", COLLECTION, collections.update_collection, auth.collection_admin),
    Route("DELETE", COLLECTION, collections.delete_collection, auth.collection_admin),
    Route("GET", COLLECTION + "/devices", collections.list_devices, auth.collection_member),
    Route("PUT", COLLECTION + "/devices/{device_id}", collections.add_device, auth.collection_admin),
    Route("DELETE", COLLECTION + "/devices/{device_id}", collections.remove_device, auth.collection_admin),
    *_metadata_routes(COLLECTION, "collections", auth.collection_member, auth.collection_admin),
    # Keys
    Route("GET", "/v2/keys", keys.list_keys, auth.master),
    Route("POST", "/v2/keys", keys.create_key, auth.master),
    Route("GET", "/v2/keys/{key}", keys.get_key, auth.master),
    Route("PUT", "/v2/keys/{key}", keys.update_key, auth.master),
    Route("DELETE", "/v2/keys/{key}", keys.delete_key, auth.master),
    Route("POST", "/v2/keys/{key}/regenerate", keys.regenerate_key, auth.master),
]
