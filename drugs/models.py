"""The drug catalogue: label facts the portal acts on, per jurisdiction, each with its source.

Every fact row carries ``jurisdiction`` (ANY, US or EU), ``source`` (reference tags such as "[S1][S9]") and
``unconfirmed`` (the clinical reference marks it UNCONFIRMED: editable, and shown as uncertain to the admin).
Lab values are stored in the lab test's canonical UCUM unit.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from drugs import units as lab_units  # not `units`: LabTest.units is the accepted units
from portal.formats import decimal_text as fmt


class Jurisdiction(models.TextChoices):
    ANY = "ANY", _("US and EU")
    US = "US", _("US (FDA)")
    EU = "EU", _("EU (EMA)")


class Route(models.TextChoices):
    ORAL = "oral", _("Oral")
    TOPICAL = "topical", _("Topical")


class Source(models.Model):
    """A reference from the clinical reference's Sources section, e.g. tag "S1"."""

    tag = models.CharField(_("tag"), max_length=12, unique=True)
    title = models.CharField(_("title"), max_length=400)
    url = models.CharField(_("address"), max_length=600, blank=True)

    class Meta:
        ordering = ["tag"]
        verbose_name = _("source")

    def __str__(self) -> str:
        return f"[{self.tag}] {self.title}"


class LabTestQuerySet(models.QuerySet):
    def with_unit_labels(self) -> LabTestQuerySet:
        """Each test with its accepted units loaded (one query for any number of tests), so ``unit_for``,
        ``unit_label`` and ``label_of`` read them without a query. From a related query, prefetch
        ``"lab_test__units"`` instead."""
        return self.prefetch_related("units")


class LabTest(models.Model):
    """A laboratory test with its LOINC code, canonical unit, reference range and plausibility limits."""

    class ValueType(models.TextChoices):
        QUANTITY = "quantity", _("Number")
        CODED = "coded", _("Positive / negative")

    class Panel(models.TextChoices):
        CBC = "cbc", _("Blood count")
        LIPIDS = "lipids", _("Lipids")
        LIVER = "liver", _("Liver tests")
        KIDNEY = "kidney", _("Kidney function")
        CPK = "cpk", _("CPK")
        SCREENING = "screening", _("Screening tests")

    loinc = models.CharField(_("LOINC code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=40)
    common_name = models.CharField(
        _("name in words"), max_length=60, blank=True, help_text=_('As findings name it, e.g. "neutrophils"')
    )
    analyte = models.SlugField(_("analyte key"), max_length=40, unique=True, help_text=_("e.g. platelets, anc, hb"))
    panel = models.CharField(_("panel"), max_length=20, choices=Panel)
    value_type = models.CharField(_("value type"), max_length=10, choices=ValueType, default=ValueType.QUANTITY)
    canonical_unit = models.CharField(_("canonical unit (UCUM)"), max_length=30, blank=True)
    si_unit = models.CharField(
        _("unit shown in SI"),
        max_length=30,
        blank=True,
        help_text=_(
            "The accepted unit (UCUM code) results are shown in when the clinic shows SI units; empty: the canonical "
            "unit. Results entered in it are shown exactly as entered."
        ),
    )
    reference_low = models.DecimalField(_("reference low"), max_digits=12, decimal_places=4, null=True, blank=True)
    reference_high = models.DecimalField(_("reference high"), max_digits=12, decimal_places=4, null=True, blank=True)
    plausible_min = models.DecimalField(_("plausible minimum"), max_digits=12, decimal_places=4, null=True, blank=True)
    plausible_max = models.DecimalField(_("plausible maximum"), max_digits=12, decimal_places=4, null=True, blank=True)
    loinc_status = models.CharField(
        _("LOINC verification"), max_length=4, blank=True, help_text=_("V, V1 or C as in the clinical reference §4")
    )
    source = models.CharField(_("source"), max_length=120, blank=True)
    unconfirmed = models.BooleanField(_("unconfirmed"), default=False)
    display_order = models.PositiveSmallIntegerField(default=0)
    row_version = models.PositiveIntegerField(default=1, editable=False)

    objects = LabTestQuerySet.as_manager()

    class Meta:
        ordering = ["panel", "display_order", "name"]
        verbose_name = _("lab test")
        constraints = [
            models.CheckConstraint(
                condition=Q(plausible_min__isnull=True)
                | Q(plausible_max__isnull=True)
                | Q(plausible_min__lt=models.F("plausible_max")),
                name="drugs_labtest_plausible_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.short_name} ({self.loinc})"

    @property
    def finding_name(self) -> str:
        """How findings and alerts name the test: in words with the abbreviation, "neutrophils (ANC)"."""
        if self.common_name and self.common_name.lower() != self.short_name.lower():
            return f"{self.common_name} ({self.short_name})"
        return self.short_name

    # The one unit lookup (lab form, CSV upload, threshold editor) and the one unit-label lookup (every page that
    # shows a value). They read ``self.units.all()``: load many tests with ``LabTest.objects.with_unit_labels()``.

    def to_canonical(self, raw: str, unit: LabUnit) -> Decimal:
        """A value typed (or sent by a lab) in ``unit``, in this test's canonical unit; drugs.units.EntryError with
        the message for the user when it is not a number or not plausible. The lab form, the CSV upload and the HL7
        feed all convert through here."""
        return lab_units.entered_to_canonical(
            raw,
            factor=unit.factor,
            divisor=unit.divisor,
            unit_label=unit.label,
            test_name=self.short_name,
            plausible_min=self.plausible_min,
            plausible_max=self.plausible_max,
        )

    def unit_for(self, code_or_label: str) -> LabUnit | None:
        """The accepted unit given as its UCUM code (10*3/uL) or as clinicians write it (×10³/µL); empty means the
        canonical unit. None when the test does not accept it."""
        wanted = (code_or_label or "").strip() or self.canonical_unit
        accepted = list(self.units.all())
        by_code = next((u for u in accepted if u.unit == wanted), None)
        exact = by_code or next((u for u in accepted if u.label == wanted), None)
        if exact is not None:
            return exact
        # As lab print-outs and exports write it: umol/l, mmol/l, g/l, x10^9/L, 10^9/l. Only an unambiguous match.
        key = lab_units.unit_key(wanted)
        loose = {u.pk: u for u in accepted if key in (lab_units.unit_key(u.unit), lab_units.unit_key(u.label))}
        return next(iter(loose.values())) if len(loose) == 1 else None

    def label_of(self, code: str) -> str:
        """How clinicians write the unit with UCUM code ``code`` (cells/mm³ for /mm3); the code when it has no label."""
        return next((u.label for u in self.units.all() if u.unit == code), code)

    @property
    def unit_label(self) -> str:
        """The canonical unit as clinicians write it (×10³/µL for 10*3/uL)."""
        return self.label_of(self.canonical_unit)

    def display_unit(self, system: str = lab_units.US) -> lab_units.DisplayUnit:
        """The unit the clinic's unit system shows this test in (US: the canonical unit; SI: si_unit)."""
        code = self.si_unit if system == lab_units.SI and self.si_unit else self.canonical_unit
        accepted = next((u for u in self.units.all() if u.unit == code), None)
        if accepted is None or code == self.canonical_unit:
            places = accepted.display_places if accepted is not None else None
            return lab_units.DisplayUnit(code=self.canonical_unit, label=self.unit_label, places=places)
        return lab_units.DisplayUnit(
            code=code,
            label=accepted.label,
            factor=accepted.factor,
            divisor=accepted.divisor,
            places=accepted.display_places,
            canonical_label=self.unit_label,
        )

    @property
    def accepted_units_text(self) -> str:
        """The accepted UCUM codes, for a message saying which units are accepted."""
        return ", ".join(u.unit for u in self.units.all()) or self.canonical_unit


class LabUnit(models.Model):
    """An accepted unit and its exact conversion to the canonical unit: canonical = entered × factor ÷ divisor.

    The divisor states factors with no finite decimal, exactly as the reference gives them (creatinine: factor 1,
    divisor 88.42, since 88.42 µmol/L = 1 mg/dL). ``display_places`` is how many decimals results are shown with
    in this unit when they were entered in another one (µmol/L 0, mmol/L cholesterol 2)."""

    lab_test = models.ForeignKey(LabTest, on_delete=models.CASCADE, related_name="units")
    unit = models.CharField(_("unit (UCUM)"), max_length=30)
    label = models.CharField(_("label"), max_length=40)
    factor = models.DecimalField(_("factor to canonical"), max_digits=16, decimal_places=8)
    divisor = models.DecimalField(_("divisor"), max_digits=16, decimal_places=8, default=Decimal(1))
    display_places = models.PositiveSmallIntegerField(
        _("decimals shown"), null=True, blank=True, validators=[MaxValueValidator(4)]
    )

    class Meta:
        ordering = ["lab_test", "id"]
        verbose_name = _("accepted lab unit")
        constraints = [
            models.UniqueConstraint(fields=["lab_test", "unit"], name="drugs_labunit_unique_unit"),
            models.CheckConstraint(condition=Q(factor__gt=0), name="drugs_labunit_factor_positive"),
            models.CheckConstraint(condition=Q(divisor__gt=0), name="drugs_labunit_divisor_positive"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def exact(self) -> bool:
        """Whether every value converts to a finite decimal (else it is stored rounded to 4 decimal places)."""
        return lab_units.is_exact(self.factor, self.divisor)

    @property
    def conversion_text(self) -> str:
        """ "1 µmol/L = 1/88.42 mg/dL" for the catalogue pages."""
        canonical = self.lab_test.unit_label
        if self.divisor == 1:
            return f"1 {self.label} = {fmt(self.factor)} {canonical}"
        ratio = fmt(self.factor) if self.factor != 1 else "1"
        return f"1 {self.label} = {ratio}/{fmt(self.divisor)} {canonical}"


class InteractingClass(models.Model):
    """A class of medicines the labels name, e.g. strong CYP3A4 inhibitors or antiplatelets."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("interacting drug class")
        verbose_name_plural = _("interacting drug classes")

    def __str__(self) -> str:
        return self.name


class Medicine(models.Model):
    """A medicine a patient may take, matched to interacting classes (so a medicine list can be checked)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    synonyms = models.CharField(_("brand names and synonyms"), max_length=300, blank=True)
    classes = models.ManyToManyField(InteractingClass, related_name="medicines", blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True, help_text=_("e.g. aspirin up to 81 mg/day excluded"))
    unconfirmed = models.BooleanField(
        _("class assignment unconfirmed"), default=False, help_text=_("Verify against a pharmacology reference")
    )
    dose_class = models.ForeignKey(
        InteractingClass,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dose_dependent_medicines",
        verbose_name=_("also in this class above a daily dose"),
        help_text=_("e.g. aspirin counts as an antiplatelet above 81 mg/day"),
    )
    dose_class_above_mg = models.DecimalField(
        _("daily dose above which it counts (mg)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("medicine")

    def __str__(self) -> str:
        return self.name


class Drug(models.Model):
    """A JAK inhibitor in the catalogue. The slug is the generic name and appears in URLs."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    generic_name = models.CharField(_("generic name"), max_length=80, unique=True)
    brand_names = models.CharField(_("brand names"), max_length=200, blank=True)
    search_terms = models.CharField(
        _("other search terms"),
        max_length=300,
        blank=True,
        help_text=_("Codes and common misspellings, comma-separated"),
    )
    drug_class = models.CharField(_("class"), max_length=80, default="JAK inhibitor")
    selectivity = models.CharField(_("selectivity"), max_length=80, blank=True)
    route = models.CharField(_("route"), max_length=10, choices=Route)
    forms_strengths = models.CharField(_("forms and strengths"), max_length=300, blank=True)
    dose_unit = models.CharField(
        _("dose unit"), max_length=20, default="mg", help_text=_("mg for tablets; g for creams")
    )
    summary = models.TextField(_("summary"), blank=True)
    row_version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["generic_name"]
        verbose_name = _("drug")

    def __str__(self) -> str:
        return drug_name(self.generic_name)

    def get_absolute_url(self) -> str:
        return reverse("drugs:detail", args=[self.slug])


class DrugCode(models.Model):
    """A terminology code for a drug (RxNorm for US systems, ATC for European ones), sent in FHIR exports and matched
    in CDS Hooks orders. Catalogue data, edited by the catalogue admin; a code nobody has checked against its source
    yet is marked unverified and shown so."""

    class System(models.TextChoices):
        RXNORM = "rxnorm", "RxNorm"
        ATC = "atc", "ATC (WHO)"

    # The canonical FHIR system URI of each terminology.
    SYSTEM_URIS = {
        System.RXNORM: "http://www.nlm.nih.gov/research/umls/rxnorm",
        System.ATC: "http://www.whocc.no/atc",
    }

    drug = models.ForeignKey("Drug", on_delete=models.CASCADE, related_name="codes", verbose_name=_("drug"))
    system = models.CharField(_("code system"), max_length=10, choices=System)
    code = models.CharField(_("code"), max_length=20)
    display = models.CharField(_("display name"), max_length=120, blank=True)
    verified = models.BooleanField(
        _("checked against the source"),
        default=False,
        help_text=_("Tick only after checking the code in RxNav (RxNorm) or the WHO ATC index."),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["drug__generic_name", "system"]
        verbose_name = _("drug code")
        constraints = [
            models.UniqueConstraint(fields=["system", "code"], name="drug_code_unique_in_system"),
            models.UniqueConstraint(fields=["drug", "system"], name="drug_code_one_per_system"),
        ]

    def __str__(self) -> str:
        return f"{self.get_system_display()} {self.code}"

    @property
    def system_uri(self) -> str:
        return self.SYSTEM_URIS[self.System(self.system)]


class Fact(models.Model):
    """Fields every label fact shares."""

    jurisdiction = models.CharField(_("jurisdiction"), max_length=3, choices=Jurisdiction, default=Jurisdiction.ANY)
    source = models.CharField(_("source"), max_length=120, blank=True, help_text=_('Reference tags, e.g. "[S1][S9]"'))
    unconfirmed = models.BooleanField(_("unconfirmed"), default=False, help_text=_("Not confirmed by a source yet"))

    class Meta:
        abstract = True


class RegulatoryStatus(Fact):
    class Status(models.TextChoices):
        APPROVED = "approved", _("Approved for atopic dermatitis")
        OTHER_INDICATIONS = "other", _("Approved for other indications only")
        INVESTIGATIONAL = "investigational", _("Investigational")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="statuses")
    status = models.CharField(_("status for atopic dermatitis"), max_length=20, choices=Status)
    approval_year = models.PositiveSmallIntegerField(
        _("approval year"), null=True, blank=True, validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    min_age_years = models.PositiveSmallIntegerField(
        _("minimum age (years)"), null=True, blank=True, validators=[MaxValueValidator(120)]
    )
    min_weight_kg = models.PositiveSmallIntegerField(
        _("minimum weight for adolescents (kg)"), null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    indication = models.TextField(_("indication"), blank=True)
    other_indications = models.CharField(_("other indications"), max_length=300, blank=True)
    has_boxed_warning = models.BooleanField(_("boxed warning"), default=False)
    futility_week = models.PositiveSmallIntegerField(
        _("efficacy review week"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(104)]
    )

    class Meta:
        ordering = ["drug", "jurisdiction"]
        verbose_name = _("regulatory status")
        verbose_name_plural = _("regulatory statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["drug", "jurisdiction"], name="drugs_regulatorystatus_one_per_jurisdiction"
            ),
            models.CheckConstraint(condition=~Q(jurisdiction="ANY"), name="drugs_regulatorystatus_us_or_eu"),
        ]

    def __str__(self) -> str:
        return f"{self.drug} {self.jurisdiction}: {self.get_status_display()}"


class Regimen(Fact):
    """A dose the label names: start, escalation, maximum, reduced, maintenance, or a dose it gives for another
    indication (offered only for off-label use). An age and weight band limits the row to the patients in it."""

    class Kind(models.TextChoices):
        START = "start", _("Start")
        ESCALATION = "escalation", _("Escalation")
        MAXIMUM = "maximum", _("Maximum")
        REDUCED = "reduced", _("Reduced / lower-risk dose")
        MAINTENANCE = "maintenance", _("Maintenance")
        OTHER_INDICATION = "other_indication", _("Dose for another indication (off-label use only)")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="regimens")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    dose = models.DecimalField(
        _("dose"), max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    frequency = models.CharField(_("frequency"), max_length=60, default="once daily")
    description = models.CharField(_("description"), max_length=300, blank=True)
    min_age_years = models.PositiveSmallIntegerField(_("band: from age"), null=True, blank=True)
    max_age_years = models.PositiveSmallIntegerField(_("band: below age"), null=True, blank=True)
    min_weight_kg = models.DecimalField(
        _("band: from weight (kg)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    max_weight_kg = models.DecimalField(
        _("band: below weight (kg)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )

    class Meta:
        ordering = ["drug", "jurisdiction", "kind", "dose"]
        verbose_name = _("dosing regimen")
        constraints = [
            models.CheckConstraint(condition=Q(dose__isnull=True) | Q(dose__gt=0), name="drugs_regimen_dose_positive"),
        ]

    def __str__(self) -> str:
        dose = f"{self.dose.normalize():f} {self.drug.dose_unit}" if self.dose is not None else ""
        return f"{self.get_kind_display()} {dose} {self.frequency}".strip()


class RenalMeasure(models.TextChoices):
    EGFR = "egfr", _("eGFR (mL/min/1.73 m²)")
    CRCL = "crcl", _("Creatinine clearance, Cockcroft-Gault (mL/min)")


class DoseAdjustment(Fact):
    """What the label says to do with the dose for a patient characteristic or interacting medicine."""

    class Trigger(models.TextChoices):
        AGE_65 = "age_65", _("Age 65 or over")
        RENAL = "renal", _("Kidney function band (eGFR / CrCl)")
        HEPATIC_A = "hepatic_a", _("Hepatic impairment, Child-Pugh A")
        HEPATIC_B = "hepatic_b", _("Hepatic impairment, Child-Pugh B")
        HEPATIC_C = "hepatic_c", _("Hepatic impairment, Child-Pugh C")
        CLASS = "class", _("Interacting drug class")
        CYP2C19_POOR = "cyp2c19_pm", _("CYP2C19 poor metaboliser")
        HIGH_RISK = "high_risk", _("Higher VTE/MACE/malignancy risk")

    class Action(models.TextChoices):
        USE_DOSE = "use_dose", _("Use this dose")
        HALVE = "halve", _("Halve the dose")
        NO_CHANGE = "no_change", _("No change")
        NOT_RECOMMENDED = "not_recommended", _("Not recommended")
        AVOID = "avoid", _("Avoid")
        CONTRAINDICATED = "contraindicated", _("Contraindicated")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="dose_adjustments")
    trigger = models.CharField(_("when"), max_length=20, choices=Trigger)
    interacting_class = models.ForeignKey(
        InteractingClass, null=True, blank=True, on_delete=models.PROTECT, related_name="dose_adjustments"
    )
    egfr_min = models.DecimalField(
        _("eGFR from"), max_digits=5, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    egfr_max = models.DecimalField(
        _("eGFR below"), max_digits=5, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    renal_measure = models.CharField(
        _("kidney measure"),
        max_length=4,
        choices=RenalMeasure,
        default=RenalMeasure.EGFR,
        help_text=_("The label's own measure for the kidney band: eGFR or Cockcroft-Gault creatinine clearance."),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action)
    dose = models.DecimalField(
        _("dose to use"), max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    frequency = models.CharField(
        _("how often"),
        max_length=60,
        blank=True,
        help_text=_("With 'Use this dose' when it differs from the regimen, e.g. 5 mg once daily instead of twice"),
    )
    advice = models.CharField(_("advice"), max_length=400)

    class Meta:
        ordering = ["drug", "jurisdiction", "trigger", "egfr_min"]
        verbose_name = _("dose adjustment")
        constraints = [
            models.CheckConstraint(
                condition=Q(egfr_min__isnull=True) | Q(egfr_max__isnull=True) | Q(egfr_min__lt=models.F("egfr_max")),
                name="drugs_doseadjustment_egfr_band",
            ),
            models.CheckConstraint(
                condition=Q(dose__isnull=True) | Q(dose__gt=0), name="drugs_doseadjustment_dose_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()}: {self.advice}"


class TopicalLimit(Fact):
    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="topical_limits")
    min_age_years = models.PositiveSmallIntegerField(_("from age"), null=True, blank=True)
    max_age_years = models.PositiveSmallIntegerField(_("to age (exclusive)"), null=True, blank=True)
    max_bsa_percent = models.DecimalField(
        _("maximum body surface area (%)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    max_grams = models.DecimalField(
        _("maximum grams"), max_digits=6, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    per_days = models.PositiveSmallIntegerField(
        _("per number of days"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        ordering = ["drug", "jurisdiction", "min_age_years"]
        verbose_name = _("topical limit")

    def __str__(self) -> str:
        return self.description or f"Topical limit for {self.drug}"


class BoxedWarning(Fact):
    class Component(models.TextChoices):
        SERIOUS_INFECTIONS = "serious_infections", _("Serious infections")
        MORTALITY = "mortality", _("Mortality")
        MALIGNANCY = "malignancy", _("Malignancy")
        MACE = "mace", _("Major adverse cardiovascular events")
        THROMBOSIS = "thrombosis", _("Thrombosis")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="boxed_warnings")
    component = models.CharField(_("component"), max_length=30, choices=Component)
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["drug", "jurisdiction", "id"]
        verbose_name = _("boxed warning component")

    def __str__(self) -> str:
        return self.get_component_display()


class Contraindication(Fact):
    class Condition(models.TextChoices):
        HYPERSENSITIVITY = "hypersensitivity", _("Hypersensitivity to the drug")
        ACTIVE_SERIOUS_INFECTION = "active_serious_infection", _("Active serious infection")
        ACTIVE_TB = "active_tb", _("Active tuberculosis")
        PREGNANCY = "pregnancy", _("Pregnancy")
        BREASTFEEDING = "breastfeeding", _("Breastfeeding")
        SEVERE_HEPATIC = "severe_hepatic", _("Severe hepatic impairment (Child-Pugh C)")
        ANTIPLATELET_FIRST_3_MONTHS = "antiplatelet_3m", _("Antiplatelets (not low-dose aspirin) in first 3 months")
        IMMUNOCOMPROMISED = "immunocompromised", _("Immunocompromised")

    class Severity(models.TextChoices):
        CONTRAINDICATED = "contraindicated", _("Contraindicated")
        NOT_RECOMMENDED = "not_recommended", _("Not recommended / avoid")
        CAUTION = "caution", _("Use with caution")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="contraindications")
    condition = models.CharField(_("condition"), max_length=30, choices=Condition)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity, default=Severity.CONTRAINDICATED)
    text = models.CharField(_("text"), max_length=400)

    class Meta:
        ordering = ["drug", "jurisdiction", "condition"]
        verbose_name = _("contraindication")

    def __str__(self) -> str:
        return self.get_condition_display()


class Interaction(Fact):
    class Effect(models.TextChoices):
        CONTRAINDICATED = "contraindicated", _("Contraindicated")
        AVOID = "avoid", _("Avoid / not recommended")
        ADJUST_DOSE = "adjust_dose", _("Adjust the dose")
        CAUTION = "caution", _("Use with caution / monitor")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="interactions")
    interacting_class = models.ForeignKey(InteractingClass, on_delete=models.PROTECT, related_name="interactions")
    effect = models.CharField(_("effect"), max_length=20, choices=Effect)
    within_days_of_start = models.PositiveSmallIntegerField(
        _("only within days of start"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("e.g. 90 for the first 3 months; empty for the whole course"),
    )
    text = models.CharField(_("text"), max_length=400)

    class Meta:
        ordering = ["drug", "jurisdiction", "interacting_class"]
        verbose_name = _("interaction")

    def __str__(self) -> str:
        return f"{self.interacting_class}: {self.get_effect_display()}"


class AdverseReaction(Fact):
    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="adverse_reactions")
    term = models.CharField(_("clinical term"), max_length=120)
    plain_term = models.CharField(_("plain wording"), max_length=200)
    frequency = models.CharField(_("frequency"), max_length=120, blank=True, help_text=_("e.g. 6.1% at 100 mg"))

    class Meta:
        ordering = ["drug", "id"]
        verbose_name = _("adverse reaction")

    def __str__(self) -> str:
        return self.term


class ScreeningItem(Fact):
    class Item(models.TextChoices):
        TB = "tb", _("Tuberculosis test (IGRA/TST)")
        HBV = "hbv", _("Hepatitis B (surface antigen, core antibody)")
        HCV = "hcv", _("Hepatitis C antibody")
        CBC = "cbc", _("Blood count")
        LIPIDS = "lipids", _("Lipid panel")
        LIVER = "liver", _("Liver tests (ALT/AST)")
        KIDNEY = "kidney", _("Kidney function (eGFR)")
        PREGNANCY = "pregnancy", _("Pregnancy test / status")
        VACCINES = "vaccines", _("Vaccinations up to date incl. zoster; no live vaccines")

    class Requirement(models.TextChoices):
        REQUIRED = "required", _("Required")
        ADVISED = "advised", _("Advised")
        CONSIDER = "consider", _("Consider")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="screening_items")
    item = models.CharField(_("item"), max_length=20, choices=Item)
    requirement = models.CharField(_("requirement"), max_length=10, choices=Requirement)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["drug", "jurisdiction", "item"]
        verbose_name = _("baseline screening item")

    def __str__(self) -> str:
        return self.get_item_display()


class MonitoringRule(Fact):
    """One line of the monitoring protocol: which check, at which week, how often after, re-check on dose increase."""

    class Check(models.TextChoices):
        CBC = "cbc", _("Blood count")
        LIPIDS = "lipids", _("Lipid panel")
        LIVER = "liver", _("Liver tests")
        KIDNEY = "kidney", _("Kidney function")
        CPK = "cpk", _("CPK")
        TB = "tb", _("Tuberculosis screening")
        SKIN_EXAM = "skin_exam", _("Skin examination")
        INFECTION_CHECK = "infection_check", _("Infection and warning-sign check")
        EFFICACY_REVIEW = "efficacy_review", _("Efficacy review")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="monitoring_rules")
    check_type = models.CharField(_("check"), max_length=20, choices=Check)
    first_week = models.PositiveSmallIntegerField(
        _("first at week"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(104)]
    )
    repeat_every_weeks = models.PositiveSmallIntegerField(
        _("then every (weeks)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(104)]
    )
    after_dose_increase_weeks = models.PositiveSmallIntegerField(
        _("re-check weeks after a dose increase"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
    )
    window_days = models.PositiveSmallIntegerField(
        _("window (± days)"), default=7, validators=[MinValueValidator(0), MaxValueValidator(60)]
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["drug", "jurisdiction", "first_week", "check_type"]
        verbose_name = _("monitoring rule")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_week__isnull=True) | Q(first_week__gte=1), name="drugs_monitoringrule_week_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_check_type_display()} week {self.first_week}"


class LabThreshold(Fact):
    """An action level: when ``value <comparison> threshold`` the action applies."""

    class Comparison(models.TextChoices):
        LT = "lt", _("below")
        LE = "le", _("at or below")
        GT = "gt", _("above")
        GE = "ge", _("at or above")

    class Phase(models.TextChoices):
        BASELINE = "baseline", _("Before starting")
        ON_TREATMENT = "on_treatment", _("On treatment")

    class Action(models.TextChoices):
        DO_NOT_START = "do_not_start", _("Do not start")
        INTERRUPT = "interrupt", _("Interrupt")
        DISCONTINUE = "discontinue", _("Discontinue")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="thresholds")
    lab_test = models.ForeignKey(LabTest, on_delete=models.PROTECT, related_name="thresholds")
    phase = models.CharField(_("phase"), max_length=15, choices=Phase)
    comparison = models.CharField(_("comparison"), max_length=2, choices=Comparison, default=Comparison.LT)
    value = models.DecimalField(
        _("value (canonical unit)"), max_digits=12, decimal_places=4, validators=[MinValueValidator(0)]
    )
    action = models.CharField(_("action"), max_length=15, choices=Action)
    confirmed_action = models.CharField(
        _("action when confirmed"),
        max_length=15,
        choices=Action,
        blank=True,
        help_text=_("When a second result passes the level too (e.g. discontinue if confirmed)."),
    )
    restart_rule = models.CharField(_("restart rule"), max_length=300, blank=True)

    class Meta:
        ordering = ["drug", "lab_test", "jurisdiction", "phase"]
        verbose_name = _("lab action threshold")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="drugs_labthreshold_value_not_negative"),
        ]

    def __str__(self) -> str:
        value = f"{self.value.normalize():f}"
        return f"{self.lab_test.short_name} {self.get_comparison_display()} {value}: {self.get_action_display()}"


class InfectionRule(Fact):
    """What the label says to do when a serious infection occurs on treatment (clinical reference §9.2)."""

    class Action(models.TextChoices):
        INTERRUPT = "interrupt", _("Interrupt until the infection is controlled")
        DISCONTINUE = "discontinue", _("Discontinue")

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="infection_rules")
    action = models.CharField(_("action"), max_length=15, choices=Action)
    text = models.CharField(_("label wording"), max_length=400)

    class Meta:
        ordering = ["drug", "jurisdiction"]
        verbose_name = _("serious infection on treatment")

    def __str__(self) -> str:
        return self.get_action_display()


class CatalogueVersion(models.Model):
    """One saved change to the catalogue: who, when, why and what changed.

    The primary key is the catalogue version number: it only goes up, and findings and schedules store it.
    """

    drug = models.ForeignKey(Drug, null=True, blank=True, on_delete=models.SET_NULL, related_name="versions")
    drug_name = models.CharField(_("drug"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("reason for the change"))
    changes = models.JSONField(_("what changed"), default=list, blank=True)
    snapshot = models.JSONField(_("drug after the change"), default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("catalogue version")

    def __str__(self) -> str:
        return f"Catalogue version {self.number}"

    @property
    def number(self) -> int:
        return self.pk


class WarningSign(models.Model):
    """A sign patients are told to report (clinical reference §6), with a plain wording and how urgently to act.

    Class-wide, not per drug: every JAK inhibitor's handout lists them; the drug's own adverse reactions and
    pregnancy facts come from its label rows.
    """

    class Group(models.TextChoices):
        MACE = "mace", _("Heart attack or stroke")
        CLOT = "clot", _("Blood clot")
        INFECTION = "infection", _("Infection")
        LOW_COUNTS = "low_counts", _("Low blood counts")
        CANCER = "cancer", _("Cancer, lymphoma or skin cancer")
        OTHER = "other", _("Other")

    class Urgency(models.TextChoices):
        EMERGENCY = "emergency", _("Call emergency services now")
        SAME_DAY = "same_day", _("Call the clinic today")
        NEXT_VISIT = "next_visit", _("Tell the clinic soon or at your next visit")

    group = models.CharField(_("group"), max_length=20, choices=Group)
    urgency = models.CharField(_("what to do"), max_length=20, choices=Urgency)
    plain_text = models.CharField(_("plain wording"), max_length=300)
    display_order = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(_("source"), max_length=120, blank=True)
    unconfirmed = models.BooleanField(_("unconfirmed"), default=False)

    class Meta:
        ordering = ["display_order", "id"]
        verbose_name = _("warning sign")

    def __str__(self) -> str:
        return self.plain_text


def drug_name(generic_name: str) -> str:
    """How a drug is named on every page (``str(drug)``): "Abrocitinib"; a name with capitals stays as written.
    For lists that read the name with ``values()`` instead of loading the drug."""
    return generic_name.capitalize() if generic_name.islower() else generic_name
