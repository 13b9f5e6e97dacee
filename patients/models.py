"""Patient records: demographics and eczema history, risk profile, medicines, baseline screening, severity scores,
lab results.

Every clinical row says who recorded it and when; edits of shared records check ``row_version``. Writes go
through ``patients.services``; reads through the ``PatientQuerySet`` methods and ``patients.selectors``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from patients import scores

EARLIEST_DATE = dt.date(1900, 1, 1)


def validate_past_date(value: dt.date) -> None:
    """Plausible clinical dates: not in the future, not before 1900."""
    if value > timezone.localdate():
        raise ValidationError(_("This date is in the future."), code="future")
    if value < EARLIEST_DATE:
        raise ValidationError(_("This date is before 1900."), code="too_early")


def _range(low, high, unit: str = ""):
    suffix = f" {unit}" if unit else ""
    message = _("Enter a value from %(low)s to %(high)s%(suffix)s.") % {"low": low, "high": high, "suffix": suffix}
    # ValidationError formats the message with the validator's params again: a literal "%" must be doubled.
    message = message.replace("%", "%%")
    return [MinValueValidator(low, message=message), MaxValueValidator(high, message=message)]


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user) -> PatientQuerySet:
        """Patients of the user's own clinic; nothing for users without a clinic."""
        clinic_id = getattr(user, "clinic_id", None)
        if not getattr(user, "is_authenticated", False) or clinic_id is None:
            return self.none()
        return self.filter(clinic_id=clinic_id)

    def for_list(self) -> PatientQuerySet:
        return self.select_related("dermatologist", "risk_profile")

    def for_detail(self) -> PatientQuerySet:
        """With what the patient pages show: the clinic (its unit system), the dermatologist and the risk profile.
        Not who created or last changed the record: no page shows them, and joining two more user rows made the
        patient page's first query 1.9 instead of 1.2 ms (wall, bench database)."""
        return self.select_related("clinic", "dermatologist", "risk_profile")


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Intersex or other")
        UNKNOWN = "unknown", _("Not recorded")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        "portal.Clinic", verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="patients"
    )
    record_number = models.CharField(_("record number"), max_length=40)
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"), validators=[validate_past_date])
    sex_at_birth = models.CharField(_("sex at birth"), max_length=10, choices=Sex, default=Sex.UNKNOWN)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=4, decimal_places=1, null=True, blank=True, validators=_range(2, 350, "kg")
    )
    height_cm = models.DecimalField(
        _("height (cm)"), max_digits=4, decimal_places=1, null=True, blank=True, validators=_range(40, 250, "cm")
    )
    dermatologist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("treating dermatologist"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patients_treated",
    )
    diagnosis_date = models.DateField(
        _("atopic dermatitis diagnosed on"), null=True, blank=True, validators=[validate_past_date]
    )
    bsa_percent = models.DecimalField(
        _("affected body surface area (%)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=_range(0, 100, "%"),
    )
    prior_systemic_treatments = models.TextField(_("prior systemic treatments"), blank=True)
    prior_topical_treatments = models.TextField(_("prior topical treatments"), blank=True)
    row_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("registered"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        verbose_name = _("patient")
        permissions = [("view_patient_history", "Can see who viewed and changed a patient record")]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "record_number"], name="patients_patient_record_number_unique_per_clinic"
            ),
        ]
        indexes = [
            # The list's order, id included: the database reads the page off the index instead of sorting every
            # patient of a name (with their joins) first (bench: 149 rows read and joined for a page of 25).
            models.Index(fields=["clinic", "family_name", "given_name", "id"], name="patients_patient_list_idx"),
            models.Index(fields=["clinic", "date_of_birth"], name="patients_patient_dob_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    def get_absolute_url(self) -> str:
        return reverse("patients:detail", args=[self.public_id])

    def validate_constraints(self, exclude=None):
        # The clinic is set by the service, not the form: check the per-clinic unique record number all the same.
        if exclude:
            exclude = set(exclude) - {"clinic"}
        super().validate_constraints(exclude=exclude)


class Smoking(models.TextChoices):
    UNKNOWN = "", _("Not recorded")
    NEVER = "never", _("Never smoked")
    FORMER = "former", _("Former smoker")
    CURRENT = "current", _("Current smoker")


class Cancer(models.TextChoices):
    UNKNOWN = "", _("Not recorded")
    NONE = "none", _("No cancer history")
    ACTIVE = "active", _("Active cancer")
    PAST = "past", _("Past cancer")
    NMSC_ONLY = "nmsc_only", _("Non-melanoma skin cancer only")


class Tuberculosis(models.TextChoices):
    NEVER_TESTED = "never_tested", _("Never tested")
    NEGATIVE = "negative", _("Negative")
    LATENT_UNTREATED = "latent_untreated", _("Latent, untreated")
    LATENT_TREATED = "latent_treated", _("Latent, treated")
    ACTIVE = "active", _("Active")


class Serology(models.TextChoices):
    UNKNOWN = "", _("Not known")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class ChildPugh(models.TextChoices):
    UNKNOWN = "", _("Not recorded")
    NONE = "none", _("No hepatic impairment")
    A = "A", _("Child-Pugh A (mild)")
    B = "B", _("Child-Pugh B (moderate)")
    C = "C", _("Child-Pugh C (severe)")


class YesNoUnknown(models.TextChoices):
    UNKNOWN = "", _("Not known")
    YES = "yes", _("Yes")
    NO = "no", _("No")


class RiskProfile(models.Model):
    """The patient's risk profile. ``item_meta`` holds, per field, when and by whom it was last recorded."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="risk_profile")
    # Smoking
    smoking_status = models.CharField(_("smoking"), max_length=10, choices=Smoking, blank=True)
    smoking_quit_year = models.PositiveSmallIntegerField(_("year stopped smoking"), null=True, blank=True)
    pack_years = models.DecimalField(
        _("pack-years"), max_digits=4, decimal_places=1, null=True, blank=True, validators=_range(0, 200)
    )
    # Cardiovascular risk factors
    hypertension = models.BooleanField(_("high blood pressure"), default=False)
    diabetes = models.BooleanField(_("diabetes"), default=False)
    dyslipidaemia = models.BooleanField(_("dyslipidaemia"), default=False)
    coronary_disease = models.BooleanField(_("coronary disease or heart attack"), default=False)
    stroke = models.BooleanField(_("stroke"), default=False)
    peripheral_arterial_disease = models.BooleanField(_("peripheral arterial disease"), default=False)
    family_history_cvd = models.BooleanField(_("family history of heart disease"), default=False)
    # Clots
    dvt_history = models.BooleanField(_("previous deep vein thrombosis"), default=False)
    pe_history = models.BooleanField(_("previous pulmonary embolism"), default=False)
    thrombophilia = models.BooleanField(_("known thrombophilia"), default=False)
    hormonal_therapy = models.BooleanField(_("combined hormonal contraception or HRT"), default=False)
    recent_surgery_or_immobilisation = models.BooleanField(_("recent major surgery or immobilisation"), default=False)
    # Cancer
    cancer_status = models.CharField(_("cancer history"), max_length=10, choices=Cancer, blank=True)
    # Infections
    tb_status = models.CharField(
        _("tuberculosis"), max_length=20, choices=Tuberculosis, default=Tuberculosis.NEVER_TESTED
    )
    hepatitis_b = models.CharField(_("hepatitis B"), max_length=10, choices=Serology, blank=True)
    hepatitis_c = models.CharField(_("hepatitis C"), max_length=10, choices=Serology, blank=True)
    hiv = models.CharField(_("HIV"), max_length=10, choices=Serology, blank=True)
    herpes_zoster_history = models.BooleanField(_("past shingles (herpes zoster)"), default=False)
    recurrent_serious_infections = models.BooleanField(_("recurrent serious infections"), default=False)
    active_serious_infection = models.BooleanField(_("active serious infection now"), default=False)
    immunocompromised = models.BooleanField(
        _("immunocompromised"),
        default=False,
        help_text=_("e.g. primary immunodeficiency, chemotherapy, high-dose steroids, transplant medicines"),
    )
    # Pregnancy
    pregnant = models.BooleanField(_("pregnant"), default=False)
    breastfeeding = models.BooleanField(_("breastfeeding"), default=False)
    planning_pregnancy = models.BooleanField(_("planning a pregnancy"), default=False)
    no_childbearing_potential = models.BooleanField(
        _("no child-bearing potential"),
        default=False,
        help_text=_("Tick if no pregnancy test is needed (e.g. after menopause or hysterectomy)."),
    )
    # Kidney and liver
    egfr = models.DecimalField(
        _("latest eGFR (mL/min/1.73 m²)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=_range(0, 200, "mL/min/1.73 m²"),
    )
    egfr_measured_on = models.DateField(_("eGFR measured on"), null=True, blank=True, validators=[validate_past_date])
    child_pugh = models.CharField(_("hepatic impairment"), max_length=4, choices=ChildPugh, blank=True)
    cyp2c19_poor_metaboliser = models.CharField(
        _("CYP2C19 poor metaboliser"), max_length=3, choices=YesNoUnknown, blank=True
    )
    # Vaccinations
    zoster_vaccinated = models.BooleanField(_("vaccinated against shingles (zoster)"), default=False)
    live_vaccine_planned = models.BooleanField(_("live vaccine planned"), default=False)

    item_meta = models.JSONField(default=dict, blank=True, editable=False)
    row_version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("risk profile")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pack_years__isnull=True) | models.Q(smoking_status__in=["former", "current"]),
                name="patients_riskprofile_pack_years_only_for_smokers",
            ),
        ]

    def __str__(self) -> str:
        return f"Risk profile {self.patient_id}"

    def clean(self) -> None:
        errors: dict[str, str | Promise] = {}
        if self.pack_years is not None and self.smoking_status not in (Smoking.FORMER, Smoking.CURRENT):
            errors["pack_years"] = _("Pack-years apply only to current or former smokers.")
        if self.smoking_quit_year is not None:
            birth_year = self.patient.date_of_birth.year if self.patient_id else 1900
            this_year = timezone.localdate().year
            if self.smoking_status != Smoking.FORMER:
                errors["smoking_quit_year"] = _("A quit year applies only to former smokers.")
            elif not birth_year <= self.smoking_quit_year <= this_year:
                errors["smoking_quit_year"] = _("The quit year must be between %(birth)s and %(now)s.") % {
                    "birth": birth_year,
                    "now": this_year,
                }
        if errors:
            raise ValidationError(errors)


class ConcomitantMedicine(models.Model):
    """A medicine the patient takes, matched to the catalogue where possible (so interactions can be checked)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="medicines")
    medicine = models.ForeignKey(
        "drugs.Medicine",
        verbose_name=_("catalogue medicine"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name as given"), max_length=120, blank=True)
    dose_text = models.CharField(_("dose"), max_length=80, blank=True, help_text=_('e.g. "75 mg once daily"'))
    started_on = models.DateField(_("started on"), null=True, blank=True, validators=[validate_past_date])
    stopped_on = models.DateField(_("stopped on"), null=True, blank=True, validators=[validate_past_date])
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["stopped_on", "name", "id"]
        verbose_name = _("concomitant medicine")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(medicine__isnull=False) | ~models.Q(name=""),
                name="patients_concomitantmedicine_named",
            ),
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.display_name, self.dose_text) if part)

    @property
    def display_name(self) -> str:
        return self.medicine.name if not self.name and self.medicine is not None else self.name

    def clean(self) -> None:
        if self.medicine_id is None and not self.name.strip():
            raise ValidationError({"name": _("Pick a catalogue medicine or type its name.")})
        if self.started_on and self.stopped_on and self.stopped_on < self.started_on:
            raise ValidationError({"stopped_on": _("The stop date is before the start date.")})


class ScreeningResult(models.Model):
    class Item(models.TextChoices):
        TB = "tb", _("TB test (IGRA or skin test)")
        HBSAG = "hbsag", _("Hepatitis B surface antigen")
        HBCAB = "hbcab", _("Hepatitis B core antibody")
        HCV = "hcv", _("Hepatitis C antibody")
        CBC = "cbc", _("Full blood count (incl. platelets)")
        LIPIDS = "lipids", _("Lipids")
        LIVER = "liver", _("Liver tests (ALT/AST)")
        KIDNEY = "kidney", _("Kidney function (eGFR)")
        PREGNANCY = "pregnancy", _("Pregnancy test")
        VACCINATIONS = "vaccinations", _("Vaccinations up to date")

    class Outcome(models.TextChoices):
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")
        INDETERMINATE = "indeterminate", _("Indeterminate")
        NORMAL = "normal", _("Normal")
        ABNORMAL = "abnormal", _("Abnormal")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="screening_results")
    item = models.CharField(_("test"), max_length=20, choices=Item)
    performed_on = models.DateField(_("done on"), validators=[validate_past_date])
    result = models.CharField(_("result"), max_length=20, choices=Outcome)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-performed_on", "-id"]
        verbose_name = _("screening result")
        indexes = [models.Index(fields=["patient", "item", "-performed_on"], name="patients_screening_latest_idx")]

    def __str__(self) -> str:
        return f"{self.get_item_display()}: {self.get_result_display()} ({self.performed_on})"


def _easi_area():
    return models.PositiveSmallIntegerField(null=True, blank=True, validators=_range(0, 6))


def validate_easi_sign_step(value) -> None:
    """EASI signs are scored in whole or half points (clinical-reference §9.7)."""
    if value is not None and not scores.on_sign_step(value):
        raise ValidationError(scores.SIGN_STEP_MESSAGE, code="half_step")


def _easi_sign():
    # Decimal for half scores (0.5 steps); whole numbers recorded before stay valid.
    return models.DecimalField(
        max_digits=2,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[*_range(0, 3), validate_easi_sign_step],
    )


class Assessment(models.Model):
    """Eczema severity at one visit. The EASI total is computed from its parts by the service."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="assessments")
    assessed_on = models.DateField(_("assessed on"), validators=[validate_past_date])
    easi_head_area = _easi_area()
    easi_head_erythema = _easi_sign()
    easi_head_induration = _easi_sign()
    easi_head_excoriation = _easi_sign()
    easi_head_lichenification = _easi_sign()
    easi_upper_area = _easi_area()
    easi_upper_erythema = _easi_sign()
    easi_upper_induration = _easi_sign()
    easi_upper_excoriation = _easi_sign()
    easi_upper_lichenification = _easi_sign()
    easi_trunk_area = _easi_area()
    easi_trunk_erythema = _easi_sign()
    easi_trunk_induration = _easi_sign()
    easi_trunk_excoriation = _easi_sign()
    easi_trunk_lichenification = _easi_sign()
    easi_lower_area = _easi_area()
    easi_lower_erythema = _easi_sign()
    easi_lower_induration = _easi_sign()
    easi_lower_excoriation = _easi_sign()
    easi_lower_lichenification = _easi_sign()
    easi = models.DecimalField(
        _("EASI"), max_digits=3, decimal_places=1, null=True, blank=True, editable=False, validators=_range(0, 72)
    )
    viga = models.PositiveSmallIntegerField(_("vIGA-AD (0–4)"), null=True, blank=True, validators=_range(0, 4))
    itch_nrs = models.PositiveSmallIntegerField(
        _("peak pruritus NRS (0–10)"), null=True, blank=True, validators=_range(0, 10)
    )
    poem = models.PositiveSmallIntegerField(_("POEM (0–28)"), null=True, blank=True, validators=_range(0, 28))
    dlqi = models.PositiveSmallIntegerField(_("DLQI (0–30)"), null=True, blank=True, validators=_range(0, 30))
    scorad = models.DecimalField(
        _("SCORAD (0–103)"), max_digits=4, decimal_places=1, null=True, blank=True, validators=_range(0, 103)
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("severity assessment")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(easi__isnull=True) | models.Q(easi__gte=0, easi__lte=72),
                name="patients_assessment_easi_range",
            ),
            models.CheckConstraint(
                condition=models.Q(viga__isnull=True) | models.Q(viga__lte=4), name="patients_assessment_viga_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment {self.assessed_on}"


class ResultFlag(models.TextChoices):
    LOW = "low", _("Low")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    NO_RANGE = "no_range", _("No reference range set")
    CODED = "coded", _("Coded result")


class LabResult(models.Model):
    """One lab value, stored in the lab test's canonical unit, with what was typed and who entered it."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="lab_results")
    lab_test = models.ForeignKey("drugs.LabTest", on_delete=models.PROTECT, related_name="results")
    collected_on = models.DateField(_("collected on"))
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4, null=True, blank=True)
    coded_value = models.CharField(_("result"), max_length=20, blank=True)
    entered_value = models.CharField(_("value as entered"), max_length=40, blank=True)
    entered_unit = models.CharField(_("unit as entered"), max_length=30, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    # Filled by the server at save time (monitoring.services): the reference-range flag and the worst drug action
    # level reached across the patient's open courses, with its rule, source and catalogue version.
    flag = models.CharField(_("reference flag"), max_length=10, choices=ResultFlag, blank=True)
    action = models.CharField(_("action level reached"), max_length=15, blank=True)
    action_rule = models.TextField(_("action rule"), blank=True)
    action_source = models.CharField(_("action source"), max_length=200, blank=True)
    interpreted_version = models.PositiveIntegerField(_("catalogue version"), null=True, blank=True)

    class Meta:
        ordering = ["-collected_on", "-id"]
        db_table = "monitoring_labresult"
        verbose_name = _("lab result")
        indexes = [models.Index(fields=["patient", "lab_test", "-collected_on"], name="monitoring_result_latest")]
        # One result per patient, test, collection day and value (issue 18, F8: four simultaneous uploads of one CSV
        # stored it three times, with three alerts). The record has the collection date, not the time, so this is
        # what a duplicate can be told by: the same value (canonical unit, so 4.6 mmol/L typed once in mg/dL is the
        # same value) of the same test on the same day. A repeat test that day with a different value is a new
        # result and is stored. A repeat with exactly the same value is refused as "already recorded": it adds no
        # information to the record or the trend, and stored twice it would read as a confirmation ("two
        # consecutive counts below ...") and raise its alerts again. Coded results have no value; theirs is the
        # coded value. NULLs never clash in a unique index, hence two partial constraints, not one.
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "lab_test", "collected_on", "value"],
                condition=models.Q(value__isnull=False),
                name="patients_result_once_per_value",
                violation_error_message="This result is already recorded (same patient, test, date and value).",
            ),
            models.UniqueConstraint(
                fields=["patient", "lab_test", "collected_on", "coded_value"],
                condition=models.Q(value__isnull=True),
                name="patients_result_once_per_coded",
                violation_error_message="This result is already recorded (same patient, test, date and result).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lab_test.short_name} on {self.collected_on}"

    # Units as clinicians write them (×10³/µL, cells/mm³), not the UCUM codes stored (10*3/uL, /mm3). They read the
    # lab test's accepted units: prefetch "lab_test__units" when showing many results.

    @property
    def unit_label(self) -> str:
        return self.lab_test.unit_label

    @property
    def entered_unit_label(self) -> str:
        return self.lab_test.label_of(self.entered_unit)

    def display_text(self, unit_system: str) -> str:
        """The value in the clinic's unit system ("4.6 mmol/L"; exactly as typed when typed in that unit), or the
        coded result."""
        if self.value is None:
            return self.get_coded_display()
        unit = self.lab_test.display_unit(unit_system)
        return unit.entered_text(self.entered_value, self.entered_unit, self.value)

    def get_coded_display(self) -> str:
        return (self.coded_value or "").capitalize()
