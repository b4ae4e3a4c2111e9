"""The studio window (Qt). Views that take engine objects and listen to them."""
