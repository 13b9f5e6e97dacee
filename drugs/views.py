from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST, require_safe

from drugs import selectors, services
from drugs.forms import DrugForm, LabTestForm, ReasonForm, drug_code_forms, lab_unit_formset, section_formset
from drugs.models import Drug, LabTest, RegulatoryStatus, Route
from drugs.sections import SECTIONS_BY_KEY
from portal.web import add_service_error

VIEW = "drugs.view_drug"
CHANGE = "drugs.change_drug"
CHANGE_LAB = "drugs.change_labtest"
SLUG_LENGTH = Drug._meta.get_field("slug").max_length or 50


@permission_required(VIEW, raise_exception=True)
@require_safe  # a read page: a POST is refused (405), never answered as if it were a GET
def drug_list(request):
    jurisdiction = settings.PORTAL_JURISDICTION
    query = request.GET.get("q", "")[:100]
    route = request.GET.get("route", "")
    status = request.GET.get("status", "")
    route = route if route in Route.values else ""
    status = status if status in RegulatoryStatus.Status.values else ""
    drugs = selectors.drug_search(query=query, route=route, status=status, jurisdiction=jurisdiction)
    return render(
        request,
        "drugs/drug_list.html",
        {
            "drugs": drugs,
            "query": query,
            "route": route,
            "status": status,
            "routes": Route.choices,
            "statuses": RegulatoryStatus.Status.choices,
            "jurisdiction": jurisdiction,
            "can_edit": request.user.has_perm(CHANGE),
        },
    )


def _drug_page(slug: str, jurisdiction: str, can_edit: bool) -> dict | None:
    """The drug page's label part (statuses, timeline, label sections) as markup, with what the rest of the page
    needs, or None for no such drug. The label part is catalogue data, so it is rendered once per catalogue version
    and kept in the cache (``selectors.per_catalogue_version``): built for each request the page cost 20.5 ms of CPU
    and 21 queries (bench/profile_page.py drug, 10,000-patient bench). The codes and sources are read per request:
    the seed loader may change those without a new catalogue version."""
    page = selectors.drug_detail(slug=slug, jurisdiction=None if jurisdiction == "all" else jurisdiction)
    if page is None:
        return None
    context = {"page": page, "drug": page.drug, "jurisdiction": jurisdiction, "can_edit": can_edit}
    return {
        "title": str(page.drug),
        "drug_pk": page.drug.pk,
        "tags": page.tags,
        "content": render_to_string("drugs/_drug_page.html", context),
    }


@permission_required(VIEW, raise_exception=True)
@require_safe  # a read page: a POST is refused (405), never answered as if it were a GET
def drug_detail(request, slug):
    jurisdiction = request.GET.get("j", settings.PORTAL_JURISDICTION)
    if jurisdiction not in ("US", "EU", "all"):
        jurisdiction = settings.PORTAL_JURISDICTION
    if len(slug) > SLUG_LENGTH:  # no such drug, and no over-long cache key
        raise Http404
    can_edit = request.user.has_perm(CHANGE)
    kept = selectors.per_catalogue_version(
        f"page:{slug}:{jurisdiction}:{'edit' if can_edit else 'read'}",
        lambda: _drug_page(slug, jurisdiction, can_edit),
    )
    drug = None if kept is None else Drug.objects.filter(pk=kept["drug_pk"]).select_related("updated_by").first()
    if kept is None or drug is None:
        raise Http404
    context = {**kept, "drug": drug, "can_edit": can_edit}
    context.update(codes=selectors.drug_code_lines(drug), sources=selectors.sources_for(kept["tags"]))
    return render(request, "drugs/drug_detail.html", context)


@permission_required(VIEW, raise_exception=True)
@require_safe  # a read page: a POST is refused (405), never answered as if it were a GET
def drug_history(request, slug):
    drug = get_object_or_404(Drug, slug=slug)
    page_obj = selectors.drug_history(drug, request.GET.get("page"))
    return render(request, "drugs/drug_history.html", {"drug": drug, "page_obj": page_obj})


def _save(request, drug, reason_form, apply):
    try:
        version = services.catalogue_change(
            drug=drug,
            actor=request.user,
            reason=reason_form.cleaned_data["reason"],
            apply=apply,
            expected_row_version=reason_form.cleaned_data["row_version"],
        )
    except services.CatalogueError as exc:
        add_service_error(reason_form, exc)
        return None
    number = selectors.drug_version_number(version)
    messages.success(request, f"Saved as version {number} of {drug} (catalogue version {version.number}).")
    return redirect("drugs:history", slug=drug.slug)


@permission_required(CHANGE, raise_exception=True)
def drug_edit(request, slug):
    drug = get_object_or_404(Drug, slug=slug)
    if request.method == "POST":
        form = DrugForm(request.POST, instance=Drug.objects.get(pk=drug.pk))
        reason_form = ReasonForm(request.POST)
        if form.is_valid() and reason_form.is_valid():
            response = _save(request, drug, reason_form, lambda locked: form.save())
            if response:
                return response
    else:
        form = DrugForm(instance=drug)
        reason_form = ReasonForm(row_version=drug.row_version)
    return render(
        request,
        "drugs/drug_edit.html",
        {"drug": drug, "form": form, "reason_form": reason_form, "sections": SECTIONS_BY_KEY.values()},
    )


@permission_required(CHANGE, raise_exception=True)
def drug_section_edit(request, slug, section):
    drug = get_object_or_404(Drug, slug=slug)
    section_def = SECTIONS_BY_KEY.get(section)
    if section_def is None:
        raise Http404
    if request.method == "POST":
        formset = section_formset(section_def, drug=drug, data=request.POST)
        reason_form = ReasonForm(request.POST)
        if formset.is_valid() and reason_form.is_valid():
            response = _save(request, drug, reason_form, lambda locked: formset.save())
            if response:
                return response
    else:
        formset = section_formset(section_def, drug=drug)
        reason_form = ReasonForm(row_version=drug.row_version)
    return render(
        request,
        "drugs/drug_section_edit.html",
        {"drug": drug, "section": section_def, "formset": formset, "reason_form": reason_form},
    )


@permission_required(CHANGE, raise_exception=True)
def drug_codes_edit(request, slug):
    """The drug's RxNorm and ATC codes (README "FHIR R4 export"): saved like any catalogue change."""
    drug = get_object_or_404(Drug, slug=slug)
    codes = selectors.drug_codes_for([drug])[drug.pk]
    if request.method == "POST":
        code_forms = drug_code_forms(drug, codes, data=request.POST)
        reason_form = ReasonForm(request.POST)
        if all(f.is_valid() for f in code_forms.values()) and reason_form.is_valid():
            entries = {system: services.CodeEntry(**f.cleaned_data) for system, f in code_forms.items()}
            try:
                version = services.drug_codes_change(
                    drug=drug,
                    actor=request.user,
                    reason=reason_form.cleaned_data["reason"],
                    codes=entries,
                    expected_row_version=reason_form.cleaned_data["row_version"],
                )
            except services.CatalogueError as exc:
                if exc.field in code_forms:
                    code_forms[exc.field].add_error("code", str(exc))
                else:
                    add_service_error(reason_form, exc)
            else:
                messages.success(request, f"Saved the codes of {drug} (catalogue version {version.number}).")
                return redirect(drug.get_absolute_url() + "#codes-h")
    else:
        code_forms = drug_code_forms(drug, codes)
        reason_form = ReasonForm(row_version=drug.row_version)
    lines = selectors.drug_code_lines(drug, codes)
    return render(
        request,
        "drugs/drug_codes_edit.html",
        {"drug": drug, "rows": [(line, code_forms[line.system]) for line in lines], "reason_form": reason_form},
    )


@require_POST
@permission_required("drugs.delete_drug", raise_exception=True)
def drug_delete(request, slug):
    drug = get_object_or_404(Drug, slug=slug)
    reason = request.POST.get("reason", "")
    try:
        services.drug_delete(drug=drug, actor=request.user, reason=reason)
    except services.CatalogueError as exc:
        messages.error(request, str(exc))
        return redirect("drugs:edit", slug=drug.slug)
    messages.success(request, f"{drug} was deleted from the catalogue.")
    return redirect("drugs:list")


@permission_required(VIEW, raise_exception=True)
@require_safe  # a read page: a POST is refused (405), never answered as if it were a GET
def lab_test_list(request):
    lab_tests = LabTest.objects.with_unit_labels().order_by("panel", "display_order", "name")
    return render(
        request, "drugs/lab_test_list.html", {"lab_tests": lab_tests, "can_edit": request.user.has_perm(CHANGE_LAB)}
    )


@permission_required(CHANGE_LAB, raise_exception=True)
def lab_test_edit(request, analyte):
    lab_test = get_object_or_404(LabTest, analyte=analyte)
    if request.method == "POST":
        form = LabTestForm(request.POST, instance=LabTest.objects.get(pk=lab_test.pk))
        units = lab_unit_formset(lab_test, data=request.POST)
        reason_form = ReasonForm(request.POST)
        if form.is_valid() and units.is_valid() and reason_form.is_valid():

            def apply(locked):
                form.save()
                units.save()

            try:
                version = services.lab_test_change(
                    lab_test=lab_test,
                    actor=request.user,
                    reason=reason_form.cleaned_data["reason"],
                    apply=apply,
                    expected_row_version=reason_form.cleaned_data["row_version"],
                )
            except services.CatalogueError as exc:
                add_service_error(reason_form, exc)
            else:
                messages.success(request, f"Saved as catalogue version {version.number}.")
                return redirect("drugs:lab_tests")
    else:
        form = LabTestForm(instance=lab_test)
        units = lab_unit_formset(lab_test)
        reason_form = ReasonForm(row_version=lab_test.row_version)
    return render(
        request,
        "drugs/lab_test_edit.html",
        {"lab_test": lab_test, "form": form, "units": units, "reason_form": reason_form},
    )


@permission_required(VIEW, raise_exception=True)
@require_safe  # a read page: a POST is refused (405), never answered as if it were a GET
def drug_handout(request, slug):
    data = selectors.handout(slug=slug, jurisdiction=settings.PORTAL_JURISDICTION)
    if data is None:
        raise Http404
    return render(request, "drugs/handout.html", data)
