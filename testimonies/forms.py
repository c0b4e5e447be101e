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
