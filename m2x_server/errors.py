"""API errors: raised anywhere while handling a request, turned into a JSON answer."""


class ApiError(Exception):
    status = 500

    def __init__(self, message, errors=None, headers=()):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = list(headers)

    def body(self):
        body = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404

    @classmethod
    def of(cls, word):
        """The recorded wording: 'The specified device does not exist'."""
        return cls("The specified %s does not exist" % word)


class MethodNotAllowed(ApiError):
    status = 405


class PayloadTooLarge(ApiError):
    status = 413


class ValidationFailed(ApiError):
    status = 422

    def __init__(self, errors):
        super().__init__("Validation Failed", errors)


def invalid(field, reason):
    """A 422 naming one field."""
    return ValidationFailed({field: [reason]})
