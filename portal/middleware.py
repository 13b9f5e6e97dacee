from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Pages for signed-in staff are never cached, so the back button after logout shows no patient data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response
