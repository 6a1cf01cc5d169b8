# Frozen into the bmp host probe.
include("$(MPY_DIR)/extmod/asyncio")
