"""What clinical questions talk about that is NOT PHI but can look like it.

Drug brands that read like names (Eliquis, Lyrica, Keppra), eponymous diseases and tests
(Parkinson's, Foley, Holter, Epley), diseases named after places (Lyme, West Nile), lab
values, doses, blood pressures, clock times, durations ("for 3 days") and bare years.
A de-identifier that changes any of these in a PHI-free question is over-redacting.
"""

from __future__ import annotations

from random import Random

DRUGS = (
    "Eliquis", "Xarelto", "warfarin", "Coumadin", "metformin", "Jardiance", "Ozempic",
    "Wegovy", "Mounjaro", "lisinopril", "losartan", "amlodipine", "Norvasc", "atorvastatin",
    "Lipitor", "Crestor", "levothyroxine", "Synthroid", "Zoloft", "Lexapro", "Wellbutrin",
    "Prozac", "Keppra", "Lyrica", "gabapentin", "Flomax", "prednisone", "Plavix", "Brilinta",
    "Entresto", "Lasix", "furosemide", "Humira", "methotrexate", "Sinemet", "Aricept",
    "Namenda", "omeprazole", "Protonix", "Nexium", "Seroquel", "Adderall", "Ambien",
    "tramadol", "amoxicillin", "Augmentin", "doxycycline", "Cipro", "Paxlovid", "Trulicity",
)  # fmt: skip

OTC = (
    "ibuprofen", "Advil", "Motrin", "Tylenol", "acetaminophen", "Aleve", "naproxen",
    "Benadryl", "Claritin", "Zyrtec", "Sudafed", "Mucinex", "melatonin", "Pepto-Bismol",
    "Tums", "Imodium", "Miralax", "baby aspirin", "fish oil", "turmeric", "vitamin D",
    "magnesium", "Dramamine", "Robitussin", "DayQuil", "NyQuil",
)  # fmt: skip

DOSES = (
    "metformin 500 mg twice a day", "Eliquis 5 mg BID", "lisinopril 10mg", "atorvastatin 40 mg",
    "levothyroxine 75 mcg", "Lantus 20 units at night", "prednisone 20mg", "Zoloft 50 mg",
    "gabapentin 300 mg three times a day", "Lasix 40 mg", "amlodipine 5 mg", "Xarelto 20 mg",
    "Ozempic 0.5 mg weekly", "Keppra 500 mg BID", "losartan 50mg", "Synthroid 88 mcg",
    "Flomax 0.4 mg", "warfarin 5 mg", "Jardiance 10 mg", "tramadol 50 mg q6h",
)  # fmt: skip

EPONYMS = (
    "Parkinson's", "Parkinson's disease", "Alzheimer's", "Crohn's", "Crohn's disease",
    "Hashimoto's", "Graves' disease", "Bell's palsy", "Cushing's", "Addison's disease",
    "Raynaud's", "Sjogren's", "Meniere's disease", "Guillain-Barre", "Lou Gehrig's disease",
    "Tourette's", "Down syndrome", "Hodgkin lymphoma", "Barrett's esophagus", "Wilson's disease",
    "Huntington's disease", "Asperger's", "Marfan syndrome", "Kawasaki disease",
    "a Baker's cyst", "Dupuytren's contracture", "Osgood-Schlatter",
)  # fmt: skip

PLACE_DISEASES = (
    "Lyme disease", "West Nile virus", "Rocky Mountain spotted fever", "Ebola", "Zika",
    "Norwalk virus", "German measles", "Valley fever", "Coxsackie virus", "Marburg virus",
)  # fmt: skip

CONDITIONS = (
    "Type 2 diabetes", "type 1 diabetes", "high blood pressure", "afib", "AFib", "COPD",
    "asthma", "Stage 3 CKD", "hypothyroidism", "GERD", "sleep apnea", "gout", "psoriasis",
    "migraines", "lupus", "MS", "heart failure", "a DVT", "osteoporosis", "IBS", "anemia",
    "ADHD", "PCOS", "fibromyalgia", "prediabetes", "Stage 2 breast cancer", "COVID",
)  # fmt: skip

SYMPTOMS = (
    "dizziness", "a headache", "nausea", "leg cramps", "a dry cough", "swollen ankles",
    "heartburn", "trouble sleeping", "a rash", "blurry vision", "ringing in my ears",
    "chest tightness", "tingling in my feet", "hair loss", "constipation", "diarrhea",
    "bruising", "night sweats", "palpitations", "low back pain", "fatigue", "muscle aches",
)  # fmt: skip

PROCEDURES = (
    "colonoscopy", "knee replacement", "hip replacement", "C-section", "cataract surgery",
    "gallbladder removal", "hernia repair", "cardiac cath", "stent placement", "lap chole",
    "Whipple procedure", "Nissen fundoplication", "rotator cuff repair", "tonsillectomy",
    "ACL reconstruction", "spinal fusion", "TURP", "hysterectomy", "CABG", "pacemaker placement",
    "Tommy John surgery", "Mohs surgery", "Lasik",
)  # fmt: skip

TESTS = (
    "colonoscopy", "mammogram", "CT scan", "MRI", "stress test", "echo", "EKG", "A1c",
    "lipid panel", "PSA test", "bone density scan", "sleep study", "Holter monitor",
    "Pap smear", "DEXA scan", "ultrasound", "CBC", "thyroid panel", "chest X-ray",
)  # fmt: skip

DEVICES = (
    "Foley catheter", "CPAP machine", "Holter monitor", "nebulizer", "insulin pump",
    "glucose monitor", "Dexcom", "walker", "TENS unit", "peak flow meter", "PICC line",
)  # fmt: skip

VACCINES = (
    "flu shot", "Shingrix", "COVID booster", "RSV vaccine", "Tdap", "pneumonia vaccine",
    "Prevnar 20", "hep B vaccine", "MMR",
)  # fmt: skip

RELATIONS = (
    "mom", "mother", "dad", "father", "husband", "wife", "son", "daughter", "grandmother",
    "grandfather", "sister", "brother", "partner", "aunt", "uncle", "father-in-law",
)  # fmt: skip

ELDERS = ("mom", "mother", "dad", "father", "grandmother", "grandfather", "great-grandmother")

TIMES_OF_DAY = ("this morning", "tonight", "after lunch", "this afternoon", "when I woke up")

DURATIONS = (
    "3 days", "two weeks", "about a month", "48 hours", "a week", "5 days", "over a year",
    "6 months", "10 days", "a couple of weeks", "24 hours", "2 months",
)  # fmt: skip


def _dec(rng: Random, lo: float, hi: float, places: int = 1) -> str:
    return f"{lo + (hi - lo) * rng.random():.{places}f}"


def bp(rng: Random) -> str:
    return f"{rng.randint(96, 178)}/{rng.randint(58, 104)}"


def clock(rng: Random) -> str:
    """A clock time as people type it: "9pm", "7:30 am", "10:15", "2130"."""
    h, m = rng.randint(1, 12), rng.choice(("00", "15", "30", "45"))
    style = rng.random()
    if style < 0.35:
        return f"{h}{rng.choice(('am', 'pm', ' am', ' pm', ' AM', ' PM'))}"
    if style < 0.75:
        return f"{h}:{m} {rng.choice(('am', 'pm', 'AM', 'PM'))}"
    if style < 0.9:
        return f"{h}:{m}"
    return f"{rng.randint(0, 23):02d}{m}"


def lab_result(rng: Random) -> str:
    """A lab result in lay words with its number: "A1c was 7.2%", "LDL is 142"."""
    return rng.choice(
        (
            f"A1c was {_dec(rng, 5.4, 11.5)}%",
            f"LDL is {rng.randint(70, 210)}",
            f"TSH came back {_dec(rng, 0.2, 9.8, 2)}",
            f"INR was {_dec(rng, 1.0, 4.8)}",
            f"potassium was {_dec(rng, 3.0, 5.9)}",
            f"creatinine is {_dec(rng, 0.7, 3.2, 2)}",
            f"eGFR dropped to {rng.randint(22, 75)}",
            f"hemoglobin is {_dec(rng, 8.0, 15.5)}",
            f"PSA went up to {_dec(rng, 1.0, 12.0)}",
            f"vitamin D level is {rng.randint(9, 60)} ng/mL",
            f"fasting sugar was {rng.randint(88, 260)}",
            f"platelets were {rng.randint(60, 450)}K",
            f"ferritin is {rng.randint(5, 400)}",
        )
    )


def dose_change(rng: Random) -> str:
    return f"{rng.choice((25, 50, 75, 88, 100, 112, 125))} mcg"


def temperature(rng: Random) -> str:
    return rng.choice((f"{_dec(rng, 99.0, 103.5)}", f"{_dec(rng, 37.2, 39.8)} C"))


def heart_rate(rng: Random) -> str:
    return str(rng.randint(42, 128))


def bare_year(rng: Random, before: int) -> str:
    """A year on its own (not PHI under Safe Harbor): "2015"."""
    return str(rng.randint(before - 25, before - 1))
