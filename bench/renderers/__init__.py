"""Renderers of MNIST digits as the images users send: phone photos of a sheet, crops and scans."""
