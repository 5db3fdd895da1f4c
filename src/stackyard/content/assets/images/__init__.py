"""On-the-fly image transforms (Image Delivery API, catalogue §3.7) in libvips."""
