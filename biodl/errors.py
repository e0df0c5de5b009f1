"""The one exception type users see: a problem in their config or data that they can fix."""


class BiodlError(ValueError):
    """Bad input: the message names the file, line or key and says the fix.

    The CLI prints it as one line and exits with code 2, without a traceback.
    """
