"""The ``kgrec`` command-line program: thin commands over the library."""
