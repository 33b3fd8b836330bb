# Freezing m2x_micro into MicroPython firmware: add
#   include("path/to/m2x-micro/manifest.py")
# to your board's manifest. A frozen module costs almost no RAM to import. The package is
# the core and its add-ons (m2x_micro.outbox, m2x_micro.backoff): a board pays RAM only for
# the modules it imports.
metadata(description="M2X API v2 client for MicroPython", version="0.1.0")

# The client needs an HTTP client: micropython-lib's requests (frozen in most firmware).
require("requests")

package("m2x_micro")
