"""The web form's templates, static files and the display decisions its templates show (``result_view``)."""
