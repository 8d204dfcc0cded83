"""Clinical text that is NOT PHI but looks like it: eponyms, brand names, numbers.

These fragments let precision be measured: a tagger that redacts "Foley", "Parkinson's",
"MR" (mitral regurgitation), "BP 120/80", "2130" or "'92" here is over-redacting.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

# Diseases, signs and procedures named after people.
EPONYM_CONDITIONS = (
    "Parkinson's disease", "Hodgkin lymphoma", "non-Hodgkin lymphoma", "Alzheimer's dementia",
    "Crohn's disease", "Graves' disease", "Hashimoto's thyroiditis", "Guillain-Barre syndrome",
    "Bell's palsy", "Cushing's syndrome", "Addison's disease", "Barrett's esophagus",
    "Raynaud's phenomenon", "Sjogren's syndrome", "Wolff-Parkinson-White", "Meniere's disease",
    "Paget's disease", "Charcot foot", "Dupuytren's contracture", "Mallory-Weiss tear",
    "Zenker's diverticulum", "Wernicke's encephalopathy", "Hirschsprung's disease",
    "Down syndrome", "Kaposi sarcoma", "Huntington's disease", "Lou Gehrig's disease",
    "Tourette syndrome", "Marfan syndrome", "von Willebrand disease", "Buerger's disease",
)  # fmt: skip

PLAIN_CONDITIONS = (
    "CAD", "HTN", "hyperlipidemia", "DM2", "IDDM", "CHF", "COPD", "afib", "CKD stage 3",
    "ESRD on HD", "hypothyroidism", "GERD", "OSA on CPAP", "BPH", "depression", "anxiety",
    "osteoarthritis", "PVD", "s/p CVA", "asthma", "obesity", "anemia", "gout", "cirrhosis",
    "pulm HTN", "DVT", "iron deficiency", "peripheral neuropathy", "chronic back pain",
)  # fmt: skip

SIGNS = (
    "Murphy's sign negative", "Homan's sign negative", "Babinski downgoing bilaterally",
    "Kernig's sign negative", "Romberg negative", "Chvostek sign absent",
    "no Kussmaul respirations", "Cheyne-Stokes breathing overnight", "McBurney's point nontender",
)  # fmt: skip

PROCEDURES = (
    "Whipple procedure", "Nissen fundoplication", "Hartmann's procedure",
    "Roux-en-Y gastric bypass", "CABG x3", "PTCA to LAD", "TURP", "lap chole", "appy", "TAH/BSO",
    "R TKR", "L THR", "AVR (porcine)", "MVR", "ORIF R hip", "carotid endarterectomy", "AAA repair",
)  # fmt: skip

# Brand and generic drugs with realistic doses and routes.
MEDS = (
    "Lasix 40 mg IV BID", "Coumadin 5 mg PO daily", "metoprolol 25 mg PO BID", "Lopressor 5 mg IV",
    "heparin gtt at 1100 units/hr", "insulin sliding scale", "Zosyn 3.375 g IV q6h",
    "vancomycin 1 g IV q12h", "Tylenol 650 mg PO q6h prn", "Ativan 0.5 mg IV prn",
    "Haldol 2 mg IV x1", "Keppra 500 mg PO BID", "Dilaudid 0.5 mg IV q3h prn",
    "Protonix 40 mg IV daily", "Lovenox 40 mg SC daily", "Plavix 75 mg daily", "Lipitor 80 mg qhs",
    "Norvasc 10 mg daily", "Zofran 4 mg IV prn", "Colace 100 mg BID", "Senna 2 tabs qhs",
    "Percocet 1-2 tabs q4h prn", "Levophed 0.08 mcg/kg/min", "Precedex 0.4 mcg/kg/hr",
    "propofol 30 mcg/kg/min", "Flagyl 500 mg IV q8h", "Eliquis 5 mg BID", "Xarelto 20 mg daily",
    "Seroquel 25 mg qhs", "KCl 40 mEq PO", "Mag sulfate 2 g IV", "Kayexalate 30 g PO",
    "dopamine 5 mcg/kg/min", "nitro gtt", "aspirin 81 mg", "digoxin 0.125 mg daily",
    "amiodarone 200 mg daily", "lactulose 30 mL TID",
)  # fmt: skip

# What a patient takes at home and leaves with (oral and injectable outpatient drugs).
HOME_MEDS = (
    "Lasix 40 mg PO daily", "Coumadin 5 mg PO daily", "metoprolol 25 mg PO BID",
    "Keppra 500 mg PO BID", "Lipitor 80 mg qhs", "Plavix 75 mg daily", "Norvasc 10 mg daily",
    "Colace 100 mg BID", "Senna 2 tabs qhs", "Eliquis 5 mg BID", "Xarelto 20 mg daily",
    "Seroquel 25 mg qhs", "aspirin 81 mg", "digoxin 0.125 mg daily", "amiodarone 200 mg daily",
    "lactulose 30 mL TID", "lisinopril 10 mg daily", "metformin 500 mg BID",
    "Lantus 20 units qhs", "levothyroxine 88 mcg daily", "omeprazole 20 mg daily",
    "Zoloft 50 mg daily", "Tylenol 650 mg PO q6h prn", "Flomax 0.4 mg qhs", "Sinemet 25/100 TID",
)  # fmt: skip

DEVICES_AND_LINES = (
    "Foley catheter", "Foley", "R IJ triple lumen", "L subclavian CVL", "PICC line",
    "Swan-Ganz catheter", "#18 PIV", "#20 PIV x2", "Dobhoff tube", "NGT to LCS",
    "JP drain", "Hickman catheter", "A-line", "Pleur-evac", "Bair Hugger", "Yankauer",
    "Hoyer lift", "Posey belt", "Cordis", "ETT 7.5 at 23 cm at the lip", "trach (Shiley #6)",
)  # fmt: skip

SCALES = (
    "GCS 15", "Glasgow Coma Scale 11", "Braden score 14", "Morse fall score 45", "RASS -2",
    "CIWA 6", "NYHA class III", "Mallampati II", "ECOG 2", "MELD 18", "CHADS2 score 3",
    "Wells score 1.5", "pain 7/10", "pain 3/10", "strength 4/5 in all extremities",
)  # fmt: skip


@dataclass(frozen=True)
class History:
    """A patient's non-PHI clinical background, stable across notes."""

    conditions: tuple[str, ...]
    procedures: tuple[tuple[str, int], ...]  # (procedure, year) -- bare years are not PHI
    meds: tuple[str, ...]
    allergies: str
    complaint: str
    diagnosis: str


COMPLAINTS = (
    ("chest pain", "NSTEMI"), ("shortness of breath", "CHF exacerbation"),
    ("fever and cough", "community-acquired pneumonia"), ("abdominal pain", "acute cholecystitis"),
    ("syncope", "symptomatic bradycardia"), ("confusion", "urosepsis"),
    ("fall at home", "L hip fracture"), ("melena", "upper GI bleed"),
    ("palpitations", "afib with RVR"), ("leg swelling", "LLE DVT"),
    ("weakness", "hyperkalemia and AKI"), ("hematemesis", "Mallory-Weiss tear"),
    ("slurred speech", "L MCA stroke"), ("dyspnea on exertion", "COPD exacerbation"),
)  # fmt: skip

_ALLERGIES = ("NKDA", "PCN (rash)", "sulfa", "codeine (nausea)", "IV contrast", "ceclor", "NKDA")


def make_history(rng: Random, admit_year: int, age: int) -> History:
    conds = rng.sample(PLAIN_CONDITIONS, k=rng.randint(2, 5))
    if rng.random() < 0.6:
        conds.insert(rng.randint(0, len(conds)), rng.choice(EPONYM_CONDITIONS))
    earliest = min(max(admit_year - age + 15, admit_year - 40), admit_year - 1)
    procs = tuple(
        (proc, rng.randint(earliest, admit_year - 1))
        for proc in rng.sample(PROCEDURES, k=rng.randint(1, 3))
    )
    complaint, diagnosis = rng.choice(COMPLAINTS)
    return History(
        conditions=tuple(conds),
        procedures=procs,
        meds=tuple(rng.sample(HOME_MEDS, k=rng.randint(4, 8))),
        allergies=rng.choice(_ALLERGIES),
        complaint=complaint,
        diagnosis=diagnosis,
    )


def year_ref(rng: Random, year: int) -> str:
    """A bare year the way notes write it ("'92", "1992", "in 2004"): not PHI."""
    return rng.choice((f"'{year % 100:02d}", str(year), f"in {year}"))


def _int(rng: Random, lo: int, hi: int) -> int:
    # Cheaper than randint; lab values are called for by the thousand.
    return lo + int((hi - lo + 1) * rng.random())


def _dec(rng: Random, lo: float, hi: float, places: int) -> str:
    return f"{lo + (hi - lo) * rng.random():.{places}f}"


def vitals(rng: Random) -> str:
    sbp = _int(rng, 88, 168)
    return rng.choice(
        (
            "T {t} HR {hr} BP {sbp}/{dbp} RR {rr} SpO2 {sat}% on {o2}",
            "VS: {t}, {hr}, {sbp}/{dbp}, {rr}, {sat}% {o2}",
            "afebrile, HR {hr} SR, BP {sbp}/{dbp}, sats {sat} to {sat2}% on {o2}",
            "Tmax {t} HR {hr}-{hr2} BP {sbp}-{sbp2}/{dbp}s RR {rr}",
        )
    ).format(
        t=_dec(rng, 97.0, 101.8, 1),
        hr=_int(rng, 58, 118),
        hr2=_int(rng, 120, 135),
        sbp=sbp,
        sbp2=sbp + _int(rng, 5, 30),
        dbp=_int(rng, 42, 92),
        rr=_int(rng, 12, 28),
        sat=_int(rng, 90, 98),
        sat2=_int(rng, 96, 100),
        o2=rng.choice(("RA", "2L NC", "4L NP", "3LNP", "50% face tent", "100% NRB")),
    )


def labs(rng: Random) -> str:
    return rng.choice(
        (
            "Na {na}, K {k}, Cl {cl}, HCO3 {co2}, BUN {bun}, Cr {cr}, Glu {glu}",
            "WBC {wbc}, Hct {hct}, Plt {plt}, INR {inr}",
            "K {k}, Mg {mg}, Ca {ca}; BUN/Cr {bun}/{cr}",
            "lytes: {na}/{k}/{cl}/{co2}/{bun}/{cr}<{glu}; hct {hct}",
            "trop {trop}, CK {ck}, MB {mb}",
        )
    ).format(
        na=_int(rng, 128, 146),
        k=_dec(rng, 3.0, 5.8, 1),
        cl=_int(rng, 94, 110),
        co2=_int(rng, 16, 32),
        bun=_int(rng, 8, 80),
        cr=_dec(rng, 0.6, 4.5, 1),
        glu=_int(rng, 70, 320),
        wbc=_dec(rng, 3.5, 22.0, 1),
        hct=_dec(rng, 21.0, 44.0, 1),
        plt=_int(rng, 45, 450),
        inr=_dec(rng, 0.9, 4.5, 1),
        mg=_dec(rng, 1.4, 2.6, 1),
        ca=_dec(rng, 7.8, 10.4, 1),
        trop=_dec(rng, 0.01, 2.5, 2),
        ck=_int(rng, 40, 900),
        mb=_int(rng, 1, 60),
    )


def abg(rng: Random) -> str:
    return (
        f"ABG {rng.uniform(7.18, 7.52):.2f}/{rng.randint(28, 75)}/{rng.randint(55, 180)}"
        f"{'/' + str(rng.randint(18, 34)) if rng.random() < 0.4 else ''}"
    )


def clock(rng: Random) -> str:
    """A 24-hour clock time such as "2130" (not PHI)."""
    return f"{rng.randint(0, 23):02d}{rng.choice(('00', '15', '30', '45'))}"


def vent(rng: Random) -> str:
    return (
        f"{rng.choice(('A/C', 'SIMV', 'CPAP/PS', 'PSV'))} {rng.choice((400, 450, 500, 550))}"
        f" x {rng.randint(10, 20)}, FiO2 {rng.choice((35, 40, 50, 60))}%, PEEP {rng.randint(5, 12)}"
    )


def echo(rng: Random) -> str:
    return (
        f"EF {rng.choice((20, 25, 30, 35, 40, 45, 55, 60))}%, "
        f"{rng.choice(('mild', 'moderate', '2+', 'trace', 'severe'))} MR, "
        f"{rng.choice(('mild', 'no', '1+'))} TR"
    )
