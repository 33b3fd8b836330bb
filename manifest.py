# Freezing m2x_micro into MicroPython firmware: add
#   include("path/to/m2x-micro/manifest.py")
# to your board's manifest. A frozen module costs almost no RAM to import. The package is
# the core and its add-ons (m2x_micro.outbox, m2x_micro.backoff, m2x_micro.transport): a
# board pays RAM only for the modules it imports.
metadata(description="M2X API v2 client for MicroPython", version="0.1.0")

# The core's HTTP client: micropython-lib's requests (frozen in most firmware); the
# transport add-on needs only the firmware's socket, tls and select.
require("requests")

package("m2x_micro")
