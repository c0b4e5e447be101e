from django import forms
from django.utils.translation import gettext_lazy as _

from .models import NarratorRequest


class NarratorRequestForm(forms.Form):
    reference_code = forms.CharField(
        label=_("Your reference code"),
        max_length=64,
        help_text=_("The code you were given when you recorded your testimony."),
    )
    kind = forms.ChoiceField(
        label=_("What would you like?"), choices=NarratorRequest.Kind.choices
    )
    message = forms.CharField(
        label=_("Message (optional)"),
        widget=forms.Textarea,
        required=False,
        max_length=5000,
    )


class SearchForm(forms.Form):
    """The search page's GET parameters; what cannot be read is left out."""

    q = forms.CharField(label=_("Search the testimonies"), required=False, strip=True)

    def query(self) -> str:
        return self.data.get("q", "")

    def filters(self):
        """The facets chosen, each read from its parameter as it declares."""
        from .search import DECLARED_FACETS, Filters

        return Filters(
            **{
                facet.name: facet.parse(self.data.getlist(facet.parameter))
                for facet in DECLARED_FACETS
                if facet.parameter
            }
        )

    def page(self) -> int:
        return page_number(self.data)


def page_number(data) -> int:
    """The page asked for in a query string; what cannot be read is page 1."""
    value = data.get("page", "1")
    # isdecimal: exactly the digits int() reads (isdigit also takes "²").
    return int(value) if value.isdecimal() and 0 < int(value) < 10_000 else 1
