"""Why a token or a sign-in is not accepted."""


class AuthenticationError(Exception):
    """A token that is missing, malformed, badly signed, expired or for elsewhere."""


class ProviderUnavailableError(Exception):
    """The OpenID Connect provider's discovery document or key set did not load."""
