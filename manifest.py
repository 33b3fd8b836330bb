# Freezing m2x_micro into MicroPython firmware: add
#   include("path/to/m2x-micro/manifest.py")
# to your board's manifest. A frozen module costs almost no RAM to import.
metadata(description="M2X API v2 client for MicroPython", version="0.1.0")

# The client needs an HTTP client: micropython-lib's requests (frozen in most firmware).
require("requests")

package("m2x_micro")
