"""Notes written on the ward: nursing notes, physician progress notes, radiology reports."""

from __future__ import annotations

from collections.abc import Callable

from sample_data import clinical
from sample_data import mentions as m
from sample_data.builder import NoteBuilder, Phi, Piece
from sample_data.context import NoteContext

_UNITS = ("MICU", "CCU", "SICU", "CSRU", "T/SICU", "CVICU", "PACU", "step-down unit")


def sex_word(ctx: NoteContext) -> str:
    female = ctx.pt.sex == "F"
    return ctx.pick(("f", "female", "woman", "F") if female else ("m", "male", "man", "M"))


def pmh_text(ctx: NoteContext) -> str:
    h = ctx.pt.history
    procs = [f"{p} {clinical.year_ref(ctx.rng, y)}" for p, y in h.procedures]
    return ", ".join(list(h.conditions) + procs)


def ages(ctx: NoteContext) -> Piece:
    return m.age(ctx.rng, ctx.pt.age)


def any_relative(ctx: NoteContext, formal: bool = False) -> Piece:
    r = ctx.rng.choice(ctx.pt.relatives)
    return m.relative_ref(ctx.rng, r, ctx.pt, formal)


def any_nurse(ctx: NoteContext) -> Piece:
    return m.staff_signature(ctx.rng, ctx.rng.choice(ctx.pt.nurses))


def team_doctor(ctx: NoteContext) -> Piece:
    pt = ctx.pt
    c = ctx.rng.choice((pt.attending, pt.resident, pt.resident, *pt.consultants))
    return m.doctor(ctx.rng, c)


# --- nursing notes ---------------------------------------------------------------------


def nursing_note(b: NoteBuilder, ctx: NoteContext) -> None:
    """A MIMIC-style nursing note: header, optional story, systems review, social, A/P."""
    if ctx.chance(0.15):
        _respiratory_care_note(b, ctx)
        return
    if ctx.chance(0.2):
        _nursing_addendum(b, ctx)
        return
    _nursing_header(b, ctx)
    if ctx.hospital_day <= 0 or ctx.chance(0.25):
        _nursing_story(b, ctx)
    chosen = ctx.rng.sample(range(len(_SYSTEMS)), k=ctx.rng.randint(3, 6))
    for i in sorted(chosen):
        _SYSTEMS[i](b, ctx)
    if ctx.chance(0.7):
        _nursing_social(b, ctx)
    _nursing_plan(b, ctx)
    if ctx.chance(0.65):
        b.add("\n", any_nurse(ctx), "\n")


def _nursing_header(b: NoteBuilder, ctx: NoteContext) -> None:
    unit = ctx.pick(_UNITS)
    style = ctx.rng.randrange(7)
    if style == 0:
        b.say("NURSING PROGRESS NOTE {shift}\n \n", shift=ctx.pick(("7A-7P", "7P-7A", "0700-1900")))
    elif style == 1:
        b.say("Nursing Progress Note \n{d} 0700->1930 \n \n", d=m.date(ctx.rng, ctx.note_date))
    elif style == 2:
        b.say("{unit} NURSING NOTE: \n \n", unit=unit)
    elif style == 3:
        b.say("{unit} nsg admission note: {t}-- \n", unit=unit.lower(), t=clinical.clock(ctx.rng))
    elif style == 4:
        b.add("nsg note cont'd: \n")
    elif style == 5:
        b.say("{d} {t1}-{t2}: \n", d=m.date(ctx.rng, ctx.note_date), t1="1900", t2="0700")
    else:
        b.say("Nursing Transfer Accept Note ({unit}) \n \n", unit=unit)


def _nursing_story(b: NoteBuilder, ctx: NoteContext) -> None:
    pt, rng = ctx.pt, ctx.rng
    h = pt.history
    slots: dict[str, Piece] = {
        "age": ages(ctx),
        "sex": sex_word(ctx),
        "hosp": m.hospital(rng, pt.hospital),
        "dr": m.doctor(rng, pt.pcp if ctx.chance(0.5) else pt.attending),
        "ref": m.hospital(rng, pt.referring),
        "cc": h.complaint,
        "dx": h.diagnosis,
        "pmh": pmh_text(ctx),
        "d": m.date(rng, pt.admit_date),
        "rel": any_relative(ctx),
        "city": m.city(rng, pt),
        "t": clinical.clock(rng),
        "pr": pt.pronoun,
        "name": m.patient_name(rng, pt),
    }
    b.say(
        ctx.pick(
            (
                "pt is a {age} {sex} who is followed at {hosp} by {dr}. {pr} arrived a&ox3 via amb"
                " from {ref} for further eval/monitoring of {cc}. \n",
                "{age} {sex} ADMITTED IN TRANSFER FROM {ref} FOR {cc}; PMH: {pmh}. \n",
                "Pt is a {age} {sex} admitted {d} with {cc}, found by {rel} on the floor at home"
                " in {city}. PMH: {pmh}. \n",
                "{age} {sex} admitted to {hosp} ER {d} with {cc}, r/o {dx}. Arrived to unit at"
                " approx. {t}. \n",
                "Pt is a {age} {sex} with hx of {pmh} who presented to {ref} {d} with {cc} and was"
                " transferred here for further management of {dx}. \n",
                "{name} is a {age} {sex} admitted from {ref} with {cc}. PMH: {pmh}. \n",
            )
        ),
        **slots,
    )


def _neuro(b: NoteBuilder, ctx: NoteContext) -> None:
    b.say(
        ctx.pick(
            (
                "NEURO: A&Ox3, MAE, follows commands. {scale}. \n",
                "neuro--pt remains a&ox3, pearl, c/o headache, tylenol given w/ good effect. \n",
                "Neuro: alert, oriented x2, intermittently confused overnight, {med} given @ {t}"
                " with effect. {sign}. \n",
                "NEURO: SEDATED ON {med}, {scale}. ARROUSABLE TO VOICE, APPEARS COMFORTABLE. \n",
                "Neuro: lethargic but arousable, {sign}. pt seen by {last} (neuro) this am, no new"
                " recs. \n",
            )
        ),
        scale=ctx.pick(clinical.SCALES),
        med=ctx.pick(("Haldol 2 mg IV", "Ativan 0.5 mg IV", "Seroquel 25 mg", "propofol")),
        t=clinical.clock(ctx.rng),
        sign=ctx.pick(clinical.SIGNS),
        last=m.bare_last(ctx.rng, ctx.pt.consultants[1]),
    )


def _cardiac(b: NoteBuilder, ctx: NoteContext) -> None:
    rng = ctx.rng
    b.say(
        ctx.pick(
            (
                "CV: {vitals}. {med}. {labs}. {dr} aware. \n",
                "cardiac--hr 70's av paced, bp 90-100/40's, {med}, no c/o cp. \n",
                "CV: {vitals}. heparin gtt per protocol, PTT {ptt} at {t}; rate decreased to"
                " 900 units/hr per {dr}. \n",
                "CV: HR {hr} SR with occ PVC's. {labs}. echo {d}: {echo}. \n",
                "CV: {vitals}. {bpmed} given at {t} for SBP >160, repeat per {last}. \n",
            )
        ),
        vitals=clinical.vitals(rng),
        med=ctx.pick(clinical.MEDS),
        bpmed=ctx.pick(("labetalol 10 mg IV", "hydralazine 10 mg IV", "Lopressor 5 mg IV")),
        labs=clinical.labs(rng),
        dr=team_doctor(ctx),
        last=m.bare_last(rng, ctx.pt.attending),
        ptt=rng.randint(45, 130),
        t=clinical.clock(rng),
        hr=rng.randint(60, 110),
        d=m.date(rng, ctx.stay_date()),
        echo=clinical.echo(rng),
    )


def _respiratory(b: NoteBuilder, ctx: NoteContext) -> None:
    rng = ctx.rng
    b.say(
        ctx.pick(
            (
                "RESP: LS coarse, crackles at bases, sats 94 TO 96% on 3LNP. {abg}. \n",
                "Resp: remains intubated on {vent}. {abg}. suctioned for mod amts thick tan"
                " secretions. RSBI {rsbi} this am. \n",
                "RESP: {vent}. pt extubated {d} to 4L NP, tolerating well. \n",
                "resp--ls w/crackles at bases, cta in upper lobes, rr 16 not labored, no c/o"
                " sob. \n",
            )
        ),
        abg=clinical.abg(rng),
        vent=clinical.vent(rng),
        rsbi=rng.randint(40, 140),
        d=m.date(rng, ctx.stay_date()),
    )


def _gi_gu(b: NoteBuilder, ctx: NoteContext) -> None:
    rng = ctx.rng
    b.say(
        ctx.pick(
            (
                "GI: abd soft, +BS, tol {diet}. last BM {d}. \nGU: {line} draining clear yellow"
                " urine 30-60cc/hr. Lasix given with good response. \n",
                "gi--abd obese, firm/distended, (+)bs, passing loose br stool, guaiac neg. \n"
                "gu--voiding qs via foley, u/o 50cc hr, {labs}. \n",
                "GI/GU: NPO for procedure. {line} to gravity, u/o {uo}cc/hr. {labs}. \n",
                "GI: TF held for residuals 200cc per dr {last}. {line} in place. \n",
            )
        ),
        diet=ctx.pick(
            ("clear liquids", "cardiac diet", "TF at goal 60cc/hr", "puree/nectar thick")
        ),
        d=m.date(rng, ctx.stay_date()),
        line=ctx.pick(("Foley", "Foley catheter", "foley")),
        labs=clinical.labs(rng),
        uo=rng.randint(20, 120),
        last=Phi(ctx.pt.resident.last.lower(), "PERSON"),
    )


def _skin_access(b: NoteBuilder, ctx: NoteContext) -> None:
    dev1, dev2 = ctx.rng.sample(clinical.DEVICES_AND_LINES, k=2)
    b.say(
        ctx.pick(
            (
                "SKIN: Braden score {braden}. stage II decub on coccyx, duoderm applied. \n"
                "ACCESS: {dev1}, {dev2}. \n",
                "skin--area of ecchymosis to r shoulder, skin to back/buttocks intact. \n"
                "access--{dev1}; {dev2} dc'd by {who}. \n",
                "ACCESS: {dev1}, {dev2}, site cdi. \n",
            )
        ),
        braden=ctx.rng.randint(9, 20),
        dev1=dev1,
        dev2=dev2,
        who=m.clinician_any(ctx.rng, ctx.pt.midlevel),
    )


def _infection(b: NoteBuilder, ctx: NoteContext) -> None:
    rng = ctx.rng
    b.say(
        ctx.pick(
            (
                "ID: Tmax {t}. on {abx}. BCx from {d} NGTD. \n",
                "ID: afeb. wbc {wbc}. started {abx} {d}; ID consult (dr {last}) following. \n",
            )
        ),
        t=f"{rng.uniform(98.0, 102.4):.1f}",
        abx=ctx.pick(
            ("vanco/zosyn", "Zosyn 3.375 g IV q6h", "levofloxacin", "oxacillin", "Flagyl")
        ),
        d=m.date(rng, ctx.stay_date()),
        wbc=f"{rng.uniform(4.0, 19.0):.1f}",
        last=m.bare_last(rng, ctx.pt.consultants[0]),
    )


_SYSTEMS: tuple[Callable[[NoteBuilder, NoteContext], None], ...] = (
    _neuro,
    _cardiac,
    _respiratory,
    _gi_gu,
    _skin_access,
    _infection,
)


def _nursing_social(b: NoteBuilder, ctx: NoteContext) -> None:
    pt, rng = ctx.pt, ctx.rng
    r = rng.choice(pt.relatives)
    slots: dict[str, Piece] = {
        "city": m.city(rng, pt),
        "rel": m.relative_ref(rng, r, pt),
        "relname": Phi(r.first, "PERSON"),
        "relation": r.relation,
        "phone": m.phone(rng, r.phone),
        "phone2": m.phone(rng, pt.home_phone),
        "dr": team_doctor(ctx),
        "d": m.date(rng, ctx.future_date(1, 4)),
        "t": clinical.clock(rng),
        "n": str(rng.randint(2, 5)),
        "street": Phi(pt.street, "STREET_ADDRESS"),
        "pos": pt.possessive,
        "last": m.bare_last(rng, pt.attending),
    }
    templates = [
        "SOCIAL: pt married, lives in {city} with {rel}. {relname} called x2 for updates; can be"
        " reached at {phone}. \n",
        "social--{rel} in to visit this eve, updated by {dr} re: plan of care. \n",
        "Soc: large family, {n} visiting today; {rel} will be spokesperson, phone # {phone}. \n",
        "FAMILY: {relation} {relname} is HCP; home {phone2}, cell {phone}. Family meeting set for"
        " {d} at {t} with {dr}. \n",
        "Social: lives alone at {street} in {city}; {rel} checks on {pos} daily. \n",
        "SOCIAL: {rel} called, updated on plan. {last} to call {relname} in am. \n",
    ]
    if r.age is not None and r.age > 89:
        slots["age"] = m.age(rng, r.age)
        templates.append("Social: pt lives in {city} and cares for {pos} {age} {relation}. \n")
    b.say(ctx.pick(templates), **slots)


def _nursing_plan(b: NoteBuilder, ctx: NoteContext) -> None:
    pt, rng = ctx.pt, ctx.rng
    b.say(
        ctx.pick(
            (
                "A: stable overnight. P: monitor bp, follow lytes, transfer to {ward} when bed"
                " available. \n",
                "A/P: {dx}, improving. cont current plan, keep family updated. \n",
                "A: {dx}. P: cont current plan. keep {last} family aware of plan of care. \n",
                "PLAN: ?{proc} in am per {dr}. NPO after MN. \n",
                "A: NO HEMODYNAMIC COMPROMISE SINCE TRANSFER. P: TREND BP, FOLLOW K, CALL HO"
                " ({page}) FOR SBP < 90. \n",
                "Plan is for pt to go to {rehab} {d}, report called. \n",
            )
        ),
        ward=m.ward(rng, pt.ward),
        last=Phi(pt.last, "PERSON"),
        dx=pt.history.diagnosis,
        proc=ctx.pick(("cath", "TEE", "PICC placement", "EGD", "bronch", "IR drainage")),
        dr=team_doctor(ctx),
        page=m.pager(rng, pt.resident),
        rehab=m.hospital(rng, pt.discharge_to),
        d=m.date(rng, ctx.future_date(1, 3)),
    )


def _nursing_addendum(b: NoteBuilder, ctx: NoteContext) -> None:
    """A short note with no PHI at all, as many real nursing notes are."""
    rng = ctx.rng
    sentences = [
        "Swan dc'd, multilumen left in.",
        f"EKG obtained, HR {rng.randint(48, 60)}'s, maintained BP.",
        "Insulin gtt off.",
        f"{ctx.pick(clinical.MEDS)} given.",
        f"{clinical.abg(rng)}.",
        f"Sats {rng.randint(90, 94)} TO {rng.randint(95, 99)}% on 3LNP.",
        f"{ctx.pick(clinical.DEVICES_AND_LINES)} placed, site cdi.",
        f"{clinical.labs(rng)}; repleted per sliding scale.",
        f"Pt with h/o {ctx.pick(clinical.EPONYM_CONDITIONS)}, meds given crushed in applesauce.",
        f"Turned q2h, {ctx.pick(clinical.SCALES)}.",
        f"Out of bed to chair at {clinical.clock(rng)}, tolerated well.",
    ]
    b.add(ctx.pick(("ADDENDUM: ", "Addendum: ", "Nursing addendum: ", "NPN addendum: ")))
    b.add(" ".join(rng.sample(sentences, k=rng.randint(2, 4))), " Cont current plan.\n")


def _respiratory_care_note(b: NoteBuilder, ctx: NoteContext) -> None:
    rng = ctx.rng
    b.say(
        "Resp Care Note: \n \nPt {status} on mech vent as per Carevue. {vent}. Lung sounds {ls}."
        " MDIs given as per order. {abg}. {plan} \n",
        status=ctx.pick(("cont intub sedated", "cont trached", "remains intubated")),
        vent=clinical.vent(rng),
        ls=ctx.pick(("dim", "coarse bilat", "clear", "with exp wheezes")),
        abg=clinical.abg(rng),
        plan=ctx.pick(("Cont mech vent.", "Plan SBT in am.", "Will wean PS as tol.")),
    )
    if ctx.chance(0.8):
        b.add(m.staff_signature(rng, ctx.pt.therapist), "\n")


# --- physician progress notes ----------------------------------------------------------


def progress_note(b: NoteBuilder, ctx: NoteContext) -> None:
    """A SOAP-format physician progress note with consults, plan and signatures."""
    pt, rng = ctx.pt, ctx.rng
    h = pt.history
    service = ctx.pick(("MICU Resident", "Medicine", "Cardiology Attending", "Hospitalist", "SICU"))
    b.say("{service} Progress Note - HD #{n}\n", service=service, n=str(max(1, ctx.hospital_day)))
    if ctx.chance(0.5):
        b.say("Date: {d}\n", d=m.date(rng, ctx.note_date, header=True))
    if ctx.chance(0.6):
        b.say(
            "Patient: {name}    MRN: {mrn}\n",
            name=m.patient_header_name(rng, pt),
            mrn=Phi(pt.mrn, "MRN"),
        )
    b.say(
        "\nS: {subj}\n\nO: {vitals}\nLabs: {labs}; {labs2}\n{extra}\nExam: {exam}\n\n",
        subj=ctx.pick(
            (
                "No acute events overnight. Pt reports improved breathing.",
                "Overnight pt had 3 beat run of NSVT, asymptomatic. Slept poorly.",
                "Pt c/o mild nausea this am, tolerated breakfast.",
                '"I feel better today." Ambulated with PT.',
            )
        ),
        vitals=clinical.vitals(rng),
        labs=clinical.labs(rng),
        labs2=clinical.labs(rng),
        extra=ctx.pick((clinical.abg(rng), f"TTE: {clinical.echo(rng)}", "Micro: pending")),
        exam=ctx.pick(
            (
                "NAD, JVP 8 cm, RRR 2/6 SEM at LUSB, lungs with bibasilar crackles, 1+ LE edema.",
                "Alert, oriented x3. CTAB. Abd soft NT/ND. No edema. " + ctx.pick(clinical.SIGNS),
                "Intubated, sedated. Coarse BS bilat. Foley in place. Warm extremities.",
            )
        ),
    )
    b.say(
        "A/P: {age} {sex} with {pmh} admitted {d} with {cc}, found to have {dx}.\n",
        age=ages(ctx),
        sex=sex_word(ctx),
        pmh=pmh_text(ctx),
        d=m.date(rng, pt.admit_date),
        cc=h.complaint,
        dx=h.diagnosis,
    )
    _progress_problems(b, ctx)
    proxy = rng.choice(pt.relatives)
    b.say(
        "Code: {code} (confirmed with {rel}, {phone})\n",
        code=ctx.pick(("Full", "DNR/DNI", "Full code")),
        rel=m.relative_ref(rng, proxy, pt),
        phone=m.phone(rng, proxy.phone),
    )
    b.say(
        "Dispo: {dispo}\n\n",
        dispo=ctx.pick(
            (
                ["likely d/c to ", m.hospital(rng, pt.discharge_to), " in 1-2 days"],
                ["home with VNA when stable, PCP ", m.doctor(rng, pt.pcp), " aware"],
                ["transfer to ", m.ward(rng, pt.ward), " when bed available"],
                "remains in unit",
            )
        ),
    )
    b.say(
        "{res}, PGY-{y}, {page}\n",
        res=[Phi(f"{pt.resident.first} {pt.resident.last}", "PERSON"), " MD"],
        y=str(rng.randint(1, 3)),
        page=m.pager(rng, pt.resident),
    )
    if ctx.chance(0.6):
        b.say(
            "Attending: I saw and examined the patient with {res} and agree with the plan as"
            " outlined. {att}\n",
            res=m.doctor(rng, pt.resident),
            att=m.doctor(rng, pt.attending),
        )


def _progress_problems(b: NoteBuilder, ctx: NoteContext) -> None:
    pt, rng = ctx.pt, ctx.rng
    h = pt.history
    consult = rng.choice(pt.consultants)
    lines: list[Piece] = [
        ["# ", h.diagnosis, ": ", ctx.pick(h.meds), ". ", clinical.labs(rng), ". "]
        + ["Cards (", m.doctor(rng, consult), ") following, appreciate recs.\n"],
        ["# ", ctx.pick(h.conditions), ": stable, cont home ", ctx.pick(h.meds), ".\n"],
        ["# Anticoagulation: Coumadin held, INR ", f"{rng.uniform(1.1, 4.5):.1f}", "; "]
        + ["d/w ", m.doctor(rng, consult), " (", m.pager(rng, consult), ").\n"],
        [
            "# ID: BCx ",
            m.date(rng, ctx.stay_date()),
            " NGTD, cont ",
            ctx.pick(clinical.MEDS),
            ".\n",
        ],
        ["# FEN: replete K/Mg prn, ", ctx.pick(("cardiac diet", "NPO", "TF at goal")), ".\n"],
        ["# PPx: heparin SC, PPI. ", ctx.pick(clinical.DEVICES_AND_LINES), " d/c'd.\n"],
    ]
    if pt.device is not None:
        lines.append(
            [f"# {pt.device.kind.capitalize()} ({pt.device.model}, SN "]
            + [Phi(pt.device.serial, "DEVICE_ID"), f"): {pt.device.care}.\n"]
        )
    for line in rng.sample(lines, k=min(len(lines), rng.randint(3, 5))):
        b.add(line)


# --- radiology reports -----------------------------------------------------------------

_EXAMS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "CHEST (PORTABLE AP)",
        (
            "ETT tip 4 cm above the carina. NGT courses below the diaphragm.",
            "Swan-Ganz catheter tip in the right main PA. Stable cardiomegaly.",
            "Bibasilar atelectasis. Small left pleural effusion. No pneumothorax.",
            "Sternotomy wires and mediastinal clips from prior CABG.",
        ),
        ("Bibasilar atelectasis, no pneumothorax.", "Mild pulmonary edema, slightly improved."),
    ),
    (
        "CT HEAD W/O CONTRAST",
        (
            "No acute intracranial hemorrhage, mass effect or shift.",
            "Chronic small vessel ischemic change. Old L parietal lacunar infarct.",
            "Scalp laceration with overlying staples; no calvarial fracture.",
        ),
        ("No acute intracranial process.", "Chronic microvascular disease."),
    ),
    (
        "CT ABDOMEN/PELVIS WITH IV CONTRAST",
        (
            "Distended gallbladder with wall thickening and pericholecystic fluid.",
            "Foley catheter in a decompressed bladder. Sigmoid diverticulosis.",
            "Post-surgical change of Roux-en-Y gastric bypass. No obstruction.",
        ),
        ("Findings c/w acute cholecystitis.", "No acute abdominal process."),
    ),
    (
        "LLE VENOUS DOPPLER",
        ("Occlusive thrombus in the L popliteal vein.", "Normal compressibility of the CFV."),
        ("Acute L popliteal DVT.", "No DVT."),
    ),
    (
        "MRI BRAIN W/WO CONTRAST",
        (
            "Restricted diffusion in the L MCA territory.",
            "No enhancing lesion. Mild global volume loss.",
        ),
        ("Acute L MCA infarct.", "No acute abnormality."),
    ),
)


def radiology_report(b: NoteBuilder, ctx: NoteContext) -> None:
    """A radiology report: header block, indication, findings, impression, sign-off."""
    pt, rng = ctx.pt, ctx.rng
    exam, findings, impressions = rng.choice(_EXAMS)
    if ctx.chance(0.5):
        b.say("{hosp} - DEPARTMENT OF RADIOLOGY\n", hosp=Phi(pt.hospital.name, "HOSPITAL"))
    b.say(
        "EXAM: {exam}\nDATE OF SERVICE: {d} {t}\n",
        exam=exam,
        d=m.date(rng, ctx.note_date, header=True),
        t=clinical.clock(rng),
    )
    header = ctx.rng.randrange(4)
    if header <= 1:
        b.say(
            "PATIENT: {name}    MRN: {mrn}    DOB: {dob}\n",
            name=m.patient_header_name(rng, pt),
            mrn=Phi(pt.mrn, "MRN"),
            dob=m.date(rng, pt.dob, header=True),
        )
    elif header == 2:
        b.say("MR#: {mrn}   ACCESSION #: {acc}\n", mrn=Phi(pt.mrn, "MRN"), acc=_accession(ctx))
    else:
        b.say("ACC: {acc}\n", acc=_accession(ctx))
    b.say("ORDERING PHYSICIAN: {dr}\n\n", dr=m.doctor(rng, rng.choice((pt.resident, pt.attending))))
    b.say(
        "CLINICAL INDICATION: {age} {sex} with {cc}. {why}\n\n",
        age=ages(ctx),
        sex=sex_word(ctx),
        cc=pt.history.complaint,
        why=ctx.pick(("Eval for interval change.", "R/O acute process.", "Line placement.")),
    )
    if ctx.chance(0.6):
        b.say(
            "COMPARISON: {d}{src}.\n\n",
            d=m.date(rng, ctx.past_date(2, 400), header=ctx.chance(0.5)),
            src=ctx.pick(("", [" outside study from ", m.hospital(rng, pt.referring)])),
        )
    else:
        b.add("COMPARISON: None.\n\n")
    chosen = rng.sample(findings, k=min(len(findings), rng.randint(1, 3)))
    b.add("FINDINGS: ", " ".join(chosen), "\n")
    if pt.device is not None and pt.device.implanted and ctx.chance(0.6):
        b.say(
            "{kind} ({model}, serial no. {sn}) in place, position unchanged.\n",
            kind=pt.device.kind.capitalize(),
            model=pt.device.model,
            sn=Phi(pt.device.serial, "DEVICE_ID"),
        )
    b.add("\nIMPRESSION: \n1. ", rng.choice(impressions), "\n")
    if ctx.chance(0.4):
        b.add("2. Cardiomegaly; moderate MR on prior echo.\n")
    if ctx.chance(0.5):
        b.say(
            "\nFindings discussed with {dr} by telephone at {t} on {d}.\n",
            dr=m.doctor(rng, pt.resident),
            t=clinical.clock(rng),
            d=m.date(rng, ctx.note_date),
        )
    b.say(
        "\nDictated by: {rad}\nElectronically signed {d} {t}\n",
        rad=[Phi(f"{pt.radiologist.first} {pt.radiologist.last}", "PERSON"), ", MD"],
        d=m.date(rng, ctx.note_date, header=True),
        t=clinical.clock(rng),
    )
    if ctx.chance(0.3):
        b.say(
            "Images: {url} (read on workstation {ip})\n",
            url=Phi(f"https://pacs.{pt.hospital.domain}/study/{_accession_raw(ctx)}", "URL"),
            ip=Phi(_workstation_ip(ctx), "IP_ADDRESS"),
        )


def _accession_raw(ctx: NoteContext) -> str:
    prefix = ctx.pick(("RA", "CT", "MR", "US"))
    return f"{prefix}{ctx.note_date.year % 100:02d}-{ctx.rng.randint(1, 999999):06d}"


def _accession(ctx: NoteContext) -> Phi:
    return Phi(_accession_raw(ctx), "ID_NUMBER")


def _workstation_ip(ctx: NoteContext) -> str:
    return f"10.{ctx.rng.randint(0, 255)}.{ctx.rng.randint(0, 255)}.{ctx.rng.randint(1, 254)}"
