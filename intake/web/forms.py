"""The report form: the fields a reporter fills in, and the honeypot that only bots fill."""

from __future__ import annotations

from flask_babel import get_locale, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, MultipleFileField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from intake.clock import today
from intake.text import answers

INCIDENT_TYPES = [
    SelectChoice("drone", _l("A drone recorded me or people near me")),
    SelectChoice("cctv", _l("A fixed CCTV camera")),
    SelectChoice("face_recognition", _l("Face recognition or an ID check")),
    SelectChoice("phone_online", _l("Phone or online monitoring")),
    SelectChoice("other", _l("Something else")),
]
FIELDS = ("incident_type", "occurred", "location", "description", "device")
CHOSEN = ("occurred_month", "occurred_year", "province")  # sealed only when chosen (docs/format.md §5.1)
MAX_DESCRIPTION = 20000
UNCHOSEN = SelectChoice("", "")  # an empty first option: the answer is optional


def lang() -> str:
    """The page's language: "en", "km" or "my"."""
    return str(get_locale())


def year_label(year: str) -> str:
    """A year as the picker shows it: the Gregorian year with the Buddhist-era year beside it."""
    return _("%(year)s (BE %(be)s)", year=year, be=answers.buddhist_year(year))


def place_name(place: answers.Place) -> str:
    """A province's or state/region's name in the page's language (docs/translations.md says where it comes from)."""
    return pgettext(place.code, place.name)


def type_choices() -> list[SelectChoice]:
    """"Choose one" first, so that a type is never sent because the select was not touched."""
    return [SelectChoice("", _("Choose one")), *INCIDENT_TYPES]


def month_choices() -> list[SelectChoice]:
    """The twelve months by name, in the page's language."""
    return [UNCHOSEN, *(SelectChoice(m, answers.month_name(m, lang())) for m in answers.MONTHS)]


def year_choices() -> list[SelectChoice]:
    """This year and the ten before it, newest first."""
    return [UNCHOSEN, *(SelectChoice(y, year_label(y)) for y in answers.years(today()))]


def place_choices() -> list[SelectChoice]:
    """Cambodia's provinces and Myanmar's states and regions, one optgroup per country, by name."""
    groups = []
    for country in answers.COUNTRIES:
        group = answers.country_name(country, lang())
        named = [(place_name(p), p.code) for p in answers.places() if p.country == country]
        groups += [SelectChoice(code, name, optgroup=group) for name, code in sorted(named)]
    return [UNCHOSEN, *groups]


class ReportForm(FlaskForm):
    """One incident report; the files are sealed as they arrive, never through this form's data."""

    csrf_token = HiddenField()
    website = StringField(_l("Leave this field empty"))

    incident_type = SelectField(_l("What happened?"), choices=type_choices, default="",
                                validators=[DataRequired(_l("Choose what happened."))],
                                invalid_choice_message=_l("Choose what happened from the list."))
    occurred_month = SelectField(_l("Month"), choices=month_choices, default="",
                                 invalid_choice_message=_l("Choose the month from the list, or leave it empty."))
    occurred_year = SelectField(_l("Year"), choices=year_choices, default="",
                                invalid_choice_message=_l("Choose the year from the list, or leave it empty."))
    occurred = StringField(_l("Day or time, in your own words"),
                           validators=[Length(max=40, message=_l("Write the date in at most 40 characters."))])
    province = SelectField(_l("Province, state or region"), choices=place_choices, default="",
                           invalid_choice_message=_l("Choose the province, state or region from the list, or "
                                                     "leave it empty."))
    location = StringField(_l("Town or district"),
                           validators=[Length(max=200, message=_l("Write the place in at most 200 characters."))])
    description = TextAreaField(_l("What did you see?"), validators=[
        DataRequired(_l("Describe what happened: this field is needed.")),
        Length(max=MAX_DESCRIPTION, message=_l("Shorten the description to at most 20,000 characters."))])
    device = TextAreaField(_l("What did the drone or camera look like, and who operated it? (optional)"),
                           validators=[Length(max=2000, message=_l("Shorten this to at most 2,000 characters."))])
    keep_original = BooleanField(_l("Keep the original files, sealed, as evidence (photos keep their "
                                    "location and camera details)"))
    attachments = MultipleFileField(_l("Photos or videos (optional)"))

    def sealed_fields(self) -> dict[str, str]:
        """The fields as the sealed body holds them: a structured answer only when chosen, and the page's language."""
        fields = {name: str(getattr(self, name).data or "") for name in FIELDS}
        fields |= {name: str(getattr(self, name).data) for name in CHOSEN if getattr(self, name).data}
        return fields | {"lang": lang()}
