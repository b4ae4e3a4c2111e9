"""The device names a user may ask for; kept free of torch so the command line's help is instant."""

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
