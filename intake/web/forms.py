"""The report form: the fields a reporter fills in, and the honeypot that only bots fill."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, MultipleFileField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

INCIDENT_TYPES = [
    SelectChoice("drone", _l("A drone recorded me or people near me")),
    SelectChoice("cctv", _l("A fixed CCTV camera")),
    SelectChoice("face_recognition", _l("Face recognition or an ID check")),
    SelectChoice("phone_online", _l("Phone or online monitoring")),
    SelectChoice("other", _l("Something else")),
]
FIELDS = ("incident_type", "occurred", "location", "description", "device")
MAX_DESCRIPTION = 20000


class ReportForm(FlaskForm):
    """One incident report; the files are sealed as they arrive, never through this form's data."""

    csrf_token = HiddenField()
    website = StringField(_l("Leave this field empty"))

    incident_type = SelectField(_l("What happened?"), choices=INCIDENT_TYPES,
                                validators=[DataRequired(_l("Choose what happened."))])
    occurred = StringField(_l("When? (optional; the month is enough)"),
                           validators=[Length(max=40, message=_l("Write the date in at most 40 characters."))])
    location = StringField(_l("Where? (optional; a town or district is enough)"),
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
        """The fields as the sealed body holds them."""
        return {name: str(getattr(self, name).data or "") for name in FIELDS}
