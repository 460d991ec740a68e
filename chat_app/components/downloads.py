"""A link that downloads what an API route answers."""

import reflex as rx


def download(child: rx.Component | str, href: str | rx.Var[str], testid: str) -> rx.Component:
    """The browser fetches it itself (with the page's cookie): the app's router, which would
    otherwise take the click as a move to another page of the app, lets it go."""
    return rx.link(
        child,
        href=href,
        download=True,
        reload_document=True,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        custom_attrs={"data-testid": testid},
    )
