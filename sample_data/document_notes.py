"""Formal documents: ED notes, discharge summaries and referral letters.

These carry the identifiers the nursing corpus lacks (SSN, MRN, account and member
numbers, licences, vehicles, devices, emails, URLs, IPs), in the header blocks and
sentences where real documents put them.
"""

from __future__ import annotations

from sample_data import clinical
from sample_data import identifiers as ids
from sample_data import mentions as m
from sample_data.builder import NoteBuilder, Phi, Piece
from sample_data.context import NoteContext
from sample_data.identity import Clinician
from sample_data.pools import COUNTRIES, pools
from sample_data.ward_notes import ages, any_relative, pmh_text, sex_word


def _full(c: Clinician) -> Phi:
    return Phi(f"{c.first} {c.last}", "PERSON")


def _registration(b: NoteBuilder, ctx: NoteContext) -> None:
    """Face-sheet identifiers; each line appears independently so each is learned in context."""
    pt, rng = ctx.pt, ctx.rng
    lines: list[Piece] = []
    if ctx.chance(0.6):
        lines.append(["SSN: ", Phi(ids.format_ssn(pt.ssn, rng), "US_SSN")])
    if ctx.chance(0.6):
        label = ctx.pick(("Acct #: ", "Account No. ", "FIN: ", "Billing acct: "))
        lines.append([label, Phi(pt.account, "ACCOUNT_NUMBER")])
    if ctx.chance(0.6):
        lines.append(
            [f"Insurance: {pt.plan_name}, ", ctx.pick(("Member ID ", "ID# ", "Policy # "))]
            + [Phi(pt.member_id, "HEALTH_PLAN_ID")]
        )
    for line in lines:
        b.add(line, "\n")


# --- ED notes --------------------------------------------------------------------------


def ed_note(b: NoteBuilder, ctx: NoteContext) -> None:
    """An emergency department physician note, from arrival to disposition."""
    pt, rng = ctx.pt, ctx.rng
    h = pt.history
    b.say(
        "{hosp} EMERGENCY DEPARTMENT - PHYSICIAN NOTE\nArrival: {d} {t}   Mode: {mode}\n",
        hosp=Phi(pt.hospital.name, "HOSPITAL"),
        d=m.date(rng, ctx.note_date, header=True),
        t=clinical.clock(rng),
        mode=ctx.pick(("ambulance", "walk-in", "private vehicle", "transfer")),
    )
    b.say(
        "Patient: {name}   Age: {age}   Sex: {sex}   MRN: {mrn}\n",
        name=m.patient_header_name(rng, pt),
        age=Phi(str(pt.age), "AGE") if pt.age > 89 else str(pt.age),
        sex=pt.sex,
        mrn=Phi(pt.mrn, "MRN"),
    )
    _registration(b, ctx)
    b.say(
        "PCP: {pcp} ({practice})\n\nCC: {cc}\n\n",
        pcp=m.doctor(rng, pt.pcp),
        practice=Phi(pt.pcp_practice.name, "HOSPITAL"),
        cc=h.complaint,
    )
    b.say(
        ctx.pick(
            (
                "HPI: {age} {sex} with h/o {pmh} p/w {cc} x {n} days. Brought in by {city} EMS"
                " from home after {rel} called 911.",
                "HPI: {age} {sex} sent from {ref} with {cc}; outside labs notable for {labs}."
                " Per {rel}, pt has been declining since {d}.",
                "HPI: {age} {sex}, h/o {pmh}, who reports {cc} starting {d}. Seen by PCP {pcp}"
                " last week, started on {med}.",
                "HPI: {age} {sex} found at home by {county} Sheriff's deputy on a wellness check"
                " requested by {rel}; c/o {cc}. Recently returned from {country}.",
            )
        ),
        age=ages(ctx),
        sex=sex_word(ctx),
        pmh=pmh_text(ctx),
        cc=h.complaint,
        n=str(rng.randint(1, 7)),
        city=m.city(rng, pt),
        rel=any_relative(ctx),
        ref=m.hospital(rng, pt.referring),
        labs=clinical.labs(rng),
        d=m.date(rng, ctx.past_date(1, 10)),
        pcp=m.doctor(rng, pt.pcp),
        med=ctx.pick(clinical.MEDS),
        county=Phi(pt.place.county, "LOCATION"),
        country=Phi(ctx.pick(COUNTRIES), "LOCATION"),
    )
    if ctx.chance(0.45):
        _vehicle_sentence(b, ctx)
    b.say(
        "\n\nMeds: {meds}\nAllergies: {all}\nSocial: lives in {city} with {rel}; {habits}.\n",
        meds="; ".join(h.meds),
        all=h.allergies,
        city=m.city_state(rng, pt),
        rel=any_relative(ctx),
        habits=ctx.pick(("former smoker, quit '98", "no EtOH/drugs", "2 drinks/day", "20 pk-yr")),
    )
    b.say(
        "Exam: {vitals}. {exam}\n\nED course: {labs}. {ecg} {tx} D/w {dr} ({page}), who will see"
        " pt.\n",
        vitals=clinical.vitals(rng),
        exam=ctx.pick(("NAD. RRR. Lungs clear.", "Uncomfortable. Crackles at bases.", "Alert.")),
        labs=clinical.labs(rng),
        ecg=ctx.pick(("EKG: NSR 88, no acute ST changes.", "EKG: afib 130s.", "EKG: paced.")),
        tx=ctx.pick(("Given ASA 325 mg, NTG SL x3.", "2 L NS, Zosyn.", "Lasix 40 mg IV.")),
        dr=m.doctor(rng, pt.consultants[0]),
        page=m.pager(rng, pt.consultants[0]),
    )
    r = rng.choice(pt.relatives)
    b.say(
        "Emergency contact: {name} ({rel}) {phone}\n",
        name=Phi(f"{r.first} {r.last}", "PERSON"),
        rel=r.relation,
        phone=m.phone(rng, r.phone),
    )
    if ctx.chance(0.35):
        b.say(
            "Valuables: wallet, ID (driver's license {dl}) to security, envelope #{env}.\n",
            dl=Phi(pt.drivers_license, "LICENSE_NUMBER"),
            env=Phi(ids.digits(rng, 7), "ID_NUMBER"),
        )
    b.say(
        "Dispo: admit to {svc} ({att}), bed on {ward}\n\n{sig}, {d} {t}\n",
        svc=ctx.pick(("Medicine", "MICU", "Cardiology", "Surgery")),
        att=m.doctor(rng, pt.attending),
        ward=m.ward(rng, pt.ward),
        sig=[_full(pt.ed_physician), " MD"],
        d=m.date(rng, ctx.note_date, header=True),
        t=clinical.clock(rng),
    )


def _vehicle_sentence(b: NoteBuilder, ctx: NoteContext) -> None:
    pt, rng = ctx.pt, ctx.rng
    v = pt.vehicle
    b.say(
        ctx.pick(
            (
                " Pt was the restrained driver of a {car} (plate {plate}) in a low-speed MVC;"
                " per state police report #{report}, VIN {vin}.",
                " Pt drove self to ED; {car}, {st} plate {plate}, left in ambulance bay and moved"
                " by security.",
                " Pt's vehicle ({car}, VIN {vin}) towed from scene.",
            )
        ),
        car=v.description,
        plate=Phi(v.plate, "VEHICLE_ID"),
        vin=Phi(v.vin, "VEHICLE_ID"),
        st=Phi(v.plate_state, "LOCATION"),
        report=Phi(f"{ctx.note_date.year % 100:02d}-{ids.digits(rng, 6)}", "ID_NUMBER"),
    )


# --- discharge summaries ---------------------------------------------------------------


def discharge_summary(b: NoteBuilder, ctx: NoteContext) -> None:
    """A structured discharge summary with a header, hospital course and follow-up."""
    pt, rng = ctx.pt, ctx.rng
    h = pt.history
    b.say(
        "{hosp}\nDISCHARGE SUMMARY\n\nName: {name}    {mrnlabel}{mrn}\n",
        hosp=Phi(pt.hospital.name, "HOSPITAL"),
        name=m.patient_header_name(rng, pt),
        mrnlabel=ctx.pick(("MRN: ", "Unit No: ", "Med Rec #: ", "MR# ")),
        mrn=Phi(pt.mrn, "MRN"),
    )
    b.say(
        "Admission Date: {ad}    Discharge Date: {dd}\nDate of Birth: {dob}    Sex: {sex}\n",
        ad=m.date(rng, pt.admit_date, header=True),
        dd=m.date(rng, pt.discharge_date, header=True),
        dob=m.date(rng, pt.dob, header=True),
        sex=pt.sex,
    )
    _registration(b, ctx)
    b.say(
        "Service: {svc}\nAttending: {att}\n\n",
        svc=ctx.pick(("MEDICINE", "CARDIOLOGY", "GENERAL SURGERY", "NEUROLOGY")),
        att=m.doctor(rng, pt.attending),
    )
    b.say("Chief Complaint: {cc}\n\n", cc=h.complaint)
    b.say(
        "History of Present Illness: {name} is a {age} {sex} with {pmh} who presented to"
        " {ref} on {d} with {cc}. {pr} was transferred to {hosp} for further management."
        " {story}\n\n",
        name=m.patient_name(rng, pt),
        age=ages(ctx),
        sex=sex_word(ctx),
        pmh=pmh_text(ctx),
        ref=m.hospital(rng, pt.referring),
        d=m.date(rng, pt.admit_date),
        cc=h.complaint,
        pr=pt.pronoun.capitalize(),
        hosp=m.hospital(rng, pt.hospital),
        story=ctx.pick(
            (
                ["Per ", any_relative(ctx, formal=True), ", symptoms began a week earlier."],
                [
                    "PCP ",
                    m.doctor(rng, pt.pcp),
                    " had increased Lasix on ",
                    m.date(rng, ctx.past_date(5, 30)),
                    ".",
                ],
                ["Outside labs: ", clinical.labs(rng), "."],
            )
        ),
    )
    b.add("Past Medical History: ", pmh_text(ctx), "\n")
    b.add("Allergies: ", h.allergies, "\n\n")
    _hospital_course(b, ctx)
    b.add("\nDischarge Medications:\n")
    for i, med in enumerate(h.meds, 1):
        b.add(f"{i}. {med}\n")
    if pt.device is not None:
        b.say(
            "\n{what}: {model} {kind} (serial {sn})\n",
            what="Implanted device" if pt.device.implanted else "Home equipment",
            model=pt.device.model,
            kind=pt.device.kind,
            sn=Phi(pt.device.serial, "DEVICE_ID"),
        )
    b.say(
        "\nDischarge Diagnosis: {dx}\nDischarge Condition: {cond}\n"
        "Discharge Disposition: {dispo}\n",
        dx=h.diagnosis,
        cond=ctx.pick(("stable", "good", "fair")),
        dispo=ctx.pick(
            (
                ["Extended care facility: ", m.hospital(rng, pt.discharge_to)],
                ["Home with services (VNA of ", m.city(rng, pt), ")"],
                ["Home with services (", Phi(pt.place.county, "LOCATION"), " Elder Services)"],
                "Home",
            )
        ),
    )
    _follow_up(b, ctx)


def _hospital_course(b: NoteBuilder, ctx: NoteContext) -> None:
    pt, rng = ctx.pt, ctx.rng
    h = pt.history
    consult = pt.consultants[0]
    b.say(
        "Hospital Course:\n# {dx}: treated with {med1} and {med2}. {labs}. {cons} consulted on"
        " {d1} and recommended {rec}. TTE {d2}: {echo}.\n",
        dx=h.diagnosis,
        med1=ctx.pick(h.meds),
        med2=ctx.pick(clinical.MEDS),
        labs=clinical.labs(rng),
        cons=m.doctor(rng, consult),
        d1=m.any_date(rng, ctx.stay_date()),
        rec=ctx.pick(("medical management", "cath, which showed 3VD", "repeat imaging in 6 weeks")),
        d2=m.date(rng, ctx.stay_date()),
        echo=clinical.echo(rng),
    )
    b.say(
        "# {cond}: {course}\n",
        cond=ctx.pick(h.conditions),
        course=ctx.pick(
            (
                "stable; home regimen continued.",
                "BP 120/80 on home meds; no changes.",
                ["worsened on HD ", str(rng.randint(2, 5)), "; ", clinical.abg(rng), "; improved."],
            )
        ),
    )
    if ctx.chance(0.5):
        b.say(
            "# Goals of care: family meeting {d} with {rel} and {dr}; pt remains {code}.\n",
            d=m.date(rng, ctx.stay_date()),
            rel=any_relative(ctx),
            dr=m.doctor(rng, pt.attending),
            code=ctx.pick(("full code", "DNR/DNI")),
        )


def _follow_up(b: NoteBuilder, ctx: NoteContext) -> None:
    pt, rng = ctx.pt, ctx.rng
    b.say(
        "\nFollow-up: {pcp} at {practice}, {phone}, on {d} at 10:30 AM. {cons} (cardiology)"
        " in 2-4 weeks, {ext}.\n",
        pcp=m.doctor(rng, pt.pcp),
        practice=Phi(pt.pcp_practice.name, "HOSPITAL"),
        phone=m.phone(rng, pt.pcp_practice.phone),
        d=m.date(rng, ctx.future_date(5, 21)),
        cons=m.doctor(rng, pt.consultants[0]),
        ext=m.extension(rng, pt.consultants[0]),
    )
    if ctx.chance(0.5):
        b.say(
            "Summary faxed to PCP at {fax}. Questions: {email}.\n",
            fax=Phi(ids.format_phone(pt.pcp_practice.fax, rng), "FAX_NUMBER"),
            email=Phi(pt.attending.email, "EMAIL_ADDRESS"),
        )
    if ctx.chance(0.4):
        b.say(
            "Patient portal activated: {url} (first login from {ip}).\n",
            url=Phi(pt.portal_url, "URL"),
            ip=Phi(pt.ip_address, "IP_ADDRESS"),
        )
    b.say(
        "\n{res}, MD for {att}, MD\nDictated {d}\n",
        res=_full(pt.resident),
        att=_full(pt.attending),
        d=m.date(rng, pt.discharge_date, header=True),
    )


# --- referral letters ------------------------------------------------------------------


def referral_letter(b: NoteBuilder, ctx: NoteContext) -> None:
    """A letter from the patient's PCP to a hospital specialist."""
    pt, rng = ctx.pt, ctx.rng
    h = pt.history
    practice, specialist = pt.pcp_practice, pt.consultants[0]
    street = rng.choice(pools().street_names)
    b.say(
        "{practice}\n{addr}\nTel {tel} | Fax {fax}\n\n{d}\n\n",
        practice=Phi(practice.name, "HOSPITAL"),
        addr=m.facility_address(practice, rng.randint(10, 999), street),
        tel=m.phone(rng, practice.phone),
        fax=Phi(ids.format_phone(practice.fax, rng), "FAX_NUMBER"),
        d=m.date(rng, ctx.note_date, header=True),
    )
    b.say(
        "{dr}\nDepartment of {dept}, {hosp}\n\n",
        dr=["Dr. ", _full(specialist)],
        dept=ctx.pick(("Cardiology", "Neurology", "Gastroenterology", "Pulmonary Medicine")),
        hosp=Phi(pt.hospital.name, "HOSPITAL"),
    )
    b.say(
        "Re: {name}, DOB {dob}, MRN {mrn}\n",
        name=Phi(f"{pt.first} {pt.last}", "PERSON"),
        dob=m.date(rng, pt.dob, header=True),
        mrn=Phi(pt.mrn, "MRN"),
    )
    _registration(b, ctx)
    b.say(
        "\nDear Dr. {last},\n\nThank you for seeing {title} {plast}, a pleasant {age} {sex} whom"
        " I have followed since {since} for {pmh}. {pr} presents with {cc}",
        last=Phi(specialist.last, "PERSON"),
        title=pt.title,
        plast=Phi(pt.last, "PERSON"),
        age=ages(ctx),
        sex="woman" if pt.sex == "F" else "man",
        since=str(max(pt.admit_date.year - rng.randint(1, 15), pt.dob.year + 18)),
        pmh=pmh_text(ctx),
        pr=pt.pronoun.capitalize(),
        cc=pt.history.complaint,
    )
    b.say(
        " that began around {d}. Recent labs: {labs}; echo {d2} showed {echo}.\n\n",
        d=m.date(rng, ctx.past_date(10, 60)),
        labs=clinical.labs(rng),
        d2=m.any_date(rng, ctx.past_date(5, 120)),
        echo=clinical.echo(rng),
    )
    b.say(
        "{pr} lives at {addr} with {rel}, who helps with medications. {pr} can be reached at"
        " {phone} or by email at {email}.",
        pr=pt.pronoun.capitalize(),
        addr=m.address_block(pt),
        rel=any_relative(ctx, formal=True),
        phone=m.phone(rng, pt.cell_phone),
        email=Phi(pt.email, "EMAIL_ADDRESS"),
    )
    if ctx.chance(0.5):
        v = pt.vehicle
        b.say(
            " Given {cond}, I have also referred {obj} for a driving evaluation; {pos} vehicle is a"
            " {car} ({st} plate {plate}, VIN {vin}).",
            cond=ctx.pick(("the recent syncope", "new visual field loss", "cognitive decline")),
            obj="her" if pt.sex == "F" else "him",
            pos=pt.possessive,
            car=v.description,
            st=Phi(v.plate_state, "LOCATION"),
            plate=Phi(v.plate, "VEHICLE_ID"),
            vin=Phi(v.vin, "VEHICLE_ID"),
        )
    if ctx.chance(0.4):
        b.say(
            " This request was also sent as an e-consult from our portal ({url}, session IP {ip}).",
            url=Phi(f"https://www.{practice.domain}/econsult/{ids.digits(rng, 6)}", "URL"),
            ip=Phi(ids.ipv4(rng), "IP_ADDRESS"),
        )
    b.say(
        "\n\nCurrent medications: {meds}. Allergies: {all}.\n\nPlease do not hesitate to call me"
        " at {phone}{ext}.\n\nSincerely,\n\n{sig}, MD\n"
        "DEA {dea} | Lic. {lic} | NPI {npi}\n{email}\n",
        meds="; ".join(h.meds),
        all=h.allergies,
        phone=m.phone(rng, practice.phone),
        ext=ctx.pick(("", [" ", m.extension(rng, pt.pcp)])),
        sig=_full(pt.pcp),
        dea=Phi(pt.pcp.dea, "LICENSE_NUMBER"),
        lic=Phi(pt.pcp.license, "LICENSE_NUMBER"),
        npi=Phi(pt.pcp.npi, "ID_NUMBER"),
        email=Phi(pt.pcp.email, "EMAIL_ADDRESS"),
    )
    if ctx.chance(0.3):
        b.say("cc: {cc}, {svc}\n", cc=_full(pt.social_worker), svc="LICSW")
