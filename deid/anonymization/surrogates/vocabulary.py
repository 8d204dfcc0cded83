"""The surrogates' own small word lists: titles, unit and street words, medical abbreviations.

Everything a name or place surrogate writes is either kept from the original (titles,
generic words) or drawn from the vendored lexicons (``deid.lexicons``) or from these
lists, so no surrogate holds an invented word (``benchmarks/plain_sight.py`` checks it).
"""

from __future__ import annotations

from functools import cache

from deid.anonymization.surrogates.casing import word_set

TITLES = word_set(
    "mr mrs ms miss mx dr doctor prof professor rev sir madam dame "
    "jr sr ii iii iv md do rn np pa phd dds dmd lpn cna aprn crna pac msw lcsw"
)
"""Titles and credentials: kept as written around a name."""

PARTICLES = word_set("van von der den de del della di da du la le dos das ten ter y")
"""Lower-case name particles ("van Dyke", "de la Cruz"): kept as written."""

UNIT_WORDS = word_set(
    "unit units ward wards floor icu ccu micu sicu nicu picu csru cvicu tsicu ccicu cticu "
    "er ed or pacu emergency dept department lab laboratory pavilion wing building bldg "
    "tower annex step down stepdown telemetry tele oncology cardiology cardiac surgical "
    "medical surgery medicine labor delivery l&d mother baby nursery newborn neonatal "
    "pediatric pediatrics psychiatry psych rehab rehabilitation dialysis endoscopy cath "
    "observation obs short stay inpatient outpatient postpartum transplant burn neuro "
    "trauma ortho orthopedics intensive care progressive special"
)
"""Words of ward and unit names, kept as written."""

UNIT_NAMES = (
    "MICU", "SICU", "CCU", "CVICU", "NICU", "PICU", "PACU", "TSICU", "CSRU",
    "Step-Down Unit", "Telemetry", "Cardiac Surgery Unit", "Medical ICU", "Surgical ICU",
    "Neuro ICU", "Oncology Unit", "Labor and Delivery", "Rehab Unit", "Burn Unit",
    "Observation Unit", "Transplant Unit", "Short Stay Unit", "Dialysis Unit",
)  # fmt: skip
"""Plausible unit names, for a unit span that holds nothing else to replace."""

IRISH_O_SURNAMES = word_set(
    "oconnor obrien oneill odonnell oneal oconnell ohara okeefe orourke oleary omalley "
    "osullivan oreilly odell obryant ogrady oshea otoole odaniel odowd ogorman ofarrell "
    "okane ocallaghan omeara oquinn odonoghue oconner ohare oboyle ohalloran odea ogara"
)
"""Census surnames written "O'X" (Census drops the apostrophe: "oconnor")."""

DIRECTIONS = word_set("n s e w ne nw se sw north south east west northeast northwest southeast")
STREET_WORDS = word_set(
    "street st rd road ave avenue blvd boulevard dr drive ln lane way ct court pl place "
    "ter terrace hwy highway pkwy parkway cir circle sq square trl trail pike row loop "
    "apt apartment suite ste unit fl floor rm room no box po p o rr rte route"
)
"""Street suffixes, directions and unit words of an address, kept as written."""

STREET_NAMES = word_set(
    "main oak maple cedar elm pine park washington lake hill church spring ridge "
    "highland lincoln jackson franklin madison jefferson forest river walnut chestnut "
    "sunset meadow mill center willow hickory cherry valley prospect union liberty "
    "locust laurel dogwood birch woodland orchard summit college academy market"
)
"""Common US street names (besides surnames, which name most streets)."""

MEDICAL_ABBREVIATIONS = word_set(
    "icu ccu micu sicu nicu picu pacu er ed or ot pt rt ct mri ekg ecg eeg cbc bmp cmp "
    "bp hr rr iv im po pr prn npo dnr dni copd chf cad afib mi cva tia dvt pe uti gi gu "
    "ent ob gyn obgyn hiv aids hcv hbv tb ams loc sob cp abd hx dx tx rx sx fx "
    "ams ards aki ckd esrd dm htn hld gerd bph osa ptsd adhd ivf tpn ng ngt peg picc "
    "cabg pci tee tte echo abg vbg inr ptt bun wbc rbc hgb hct plt ldh ast alt alk "
    "tsh psa cea afp ana esr crp bnp ck ldl hdl "
    "ama ada cdc fda nih who cms va dod ems bls acls als ekgs cxr kub us ir nm"
)
"""Medical and health-care abbreviations an acronym surrogate must not become."""


@cache
def all_words() -> frozenset[str]:
    """Every word these lists hold (lower-case), for the plain-sight lexicon check."""
    words = TITLES | PARTICLES | UNIT_WORDS | DIRECTIONS | STREET_WORDS | STREET_NAMES
    unit_name_words = {w.casefold() for name in UNIT_NAMES for w in name.replace("-", " ").split()}
    return frozenset(words | unit_name_words)
