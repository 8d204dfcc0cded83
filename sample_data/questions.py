"""Short clinical questions: what people type into a health assistant or a patient portal.

One or two sentences.  About a third (``PHI_FREE_SHARE``) name nobody and nothing: they
ask about drugs, doses, lab values, eponymous diseases and devices ("Can I shower with a
Foley catheter?", "My A1c was 7.2%, is that bad for Type 2?"), so a de-identifier that
changes them over-redacts.  The rest name some of: the patient or a relative, age and
sex, a hospital (full name or the short form people use: "Mt. Sinai", "UCSF",
"Cedars-Sinai", "Johns Hopkins", "St. Luke's"), a town ("treated at our X office", "I
live in X", "drove from X"), dates (absolute in many formats, and relative: "last
Friday", "next Tuesday": DATE; "3 days ago", "last week": not PHI, see below), MRNs
("MRN: #AB-123456", "med rec no. 00123456"), insurance, plan, member and policy numbers, SSNs (including ranges a
validator rejects), phone numbers, emails and reference codes.

Askers type differently (``Voice``): tidy, casual (lower-case names, no apostrophes) or
sloppy (shorthand, typos, "i", no question mark); the note's case style adds all-lower
and all-caps questions.  Gold spans are exact because every piece is appended through
``NoteBuilder``.  Identifier labels ("MRN:", "SSN", "policy", "#") stay outside spans.
Relative dates anchored on a named weekday ("last Friday", "this past Monday", "next
Tuesday") are DATE: with the day the question was sent they pin one calendar date.
Pure intervals ("last week", "3 days ago", "two weeks ago", "last month", "next week")
are not labelled: Safe Harbor removes dates directly related to an individual, and an
interval without an anchor names no date -- like "today", "this morning", "tonight" and
durations ("for 3 days"), which occur in PHI-free questions too.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from random import Random
from typing import TypeVar

from deid import lexicons
from sample_data import identifiers as ids
from sample_data import question_vocab as vocab
from sample_data.builder import NoteBuilder, Phi, Piece
from sample_data.context import NoteContext
from sample_data.identity import Clinician, Relative
from sample_data.question_places import hospital_forms, us_town

PHI_FREE_SHARE = 1 / 3
T = TypeVar("T")

# --- how the asker types -----------------------------------------------------------------

_SHORTHAND = {
    "you": "u", "your": "ur", "please": "pls", "thanks": "thx", "appointment": "appt",
    "because": "bc", "with": "w/", "tomorrow": "tmrw", "about": "abt", "are": "r",
    "prescription": "rx",
}  # fmt: skip
_TYPOS = {
    "appointment": "appointmnet", "prescription": "perscription", "receive": "recieve",
    "medication": "medicaiton", "because": "becuase", "surgery": "surgury", "normal": "normla",
    "should": "shoud", "pressure": "presure", "doctor": "docter", "schedule": "schedual",
    "results": "resluts", "worried": "worryed", "since": "sence", "diarrhea": "diarrhia",
    "stomach": "stomache", "the": "teh", "what": "waht",
}  # fmt: skip
_WORD = re.compile(r"[A-Za-z']+")
_SLOT = re.compile(r"(\{\w*\})")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NUMBER_WORDS = ("two", "three", "four", "five", "six")


@dataclass(frozen=True)
class Voice:
    """How one asker types: applied to the literal text, and to names as they type them."""

    shorthand: bool = False  # "u", "pls", "appt"
    apostrophes: bool = True  # False: "im", "dont", "St Lukes"
    lower_i: bool = False  # "i think", lower-case sentence starts
    typo_rate: float = 0.0  # chance per typo-prone word
    lower_names: float = 0.0  # chance a name or place is typed in lower case
    end: str = "?"  # what ends the last question: "?", "??" or nothing

    def literal(self, rng: Random, text: str) -> str:
        def word(m: re.Match[str]) -> str:
            w = m.group(0)
            low = w.lower()
            if self.shorthand and low in _SHORTHAND:
                w = _SHORTHAND[low]
            elif low in _TYPOS and rng.random() < self.typo_rate:
                w = _TYPOS[low]
            if self.lower_i and (w == "I" or w.startswith("I'")):
                w = "i" + w[1:]
            return w

        # Slot names ("{doctor}") are left alone: only the literal text is retyped.
        out = "".join(
            part if part.startswith("{") else _WORD.sub(word, part) for part in _SLOT.split(text)
        )
        if self.lower_i and out[:1].isupper():
            out = out[0].lower() + out[1:]
        return out if self.apostrophes else out.replace("'", "")

    def proper(self, rng: Random, value: str) -> str:
        """A name or place as this asker types it ("St. Luke's" -> "st lukes")."""
        if not self.apostrophes:
            value = value.replace("'", "").replace(".", "")
        return value.lower() if rng.random() < self.lower_names else value


def _voice(rng: Random) -> Voice:
    style = rng.random()
    if style < 0.45:
        return Voice(lower_names=0.03)
    if style < 0.8:
        return Voice(
            apostrophes=rng.random() < 0.5,
            lower_i=rng.random() < 0.4,
            typo_rate=0.1,
            lower_names=0.25,
            end=rng.choice(("?", "?", "", "??")),
        )
    return Voice(True, False, True, 0.3, 0.5, rng.choice(("", "?", "??")))


# --- templates ---------------------------------------------------------------------------
# Slots name a filler (``_Asker.slot_<name>``); a trailing digit draws a second value
# ("{city2}").  PHI slots: name, first, relative, rel_age, old, doctor, hospital, city,
# when, future, date, birthday, dob, age_sex, ids, mrn, plan, ssn, phone, email, ref,
# account, zip, street; all others fill in text that is not PHI.

# A sentence with PHI that sets the scene; a PHI-free question follows (or precedes) it.
_CONTEXT: tuple[tuple[float, str], ...] = (
    (3, "Hi, my name is {name} ({ids})."),
    (2, "This is {name}, {age_sex}, {ids}."),
    (2, "{name} here, {dob}."),
    (3, "My name is {name} and I was discharged from {hospital} {when}."),
    (4, "I was seen at {hospital} {when} for {symptom}."),
    (3, "I had my {procedure} at {hospital} {when}."),
    (4, "I was treated at your {city} office {when}."),
    (3, "Patient {name} ({age_sex}) was treated at our {city} office {when}."),
    (2, "Pt seen at our {city} facility {when}, {mrn}."),
    (3, "I live in {city} and my doctor is at {hospital}."),
    (3, "We drove from {city} to {hospital} {when}."),
    (3, "My {relative} was admitted to {hospital} {when}."),
    (2, "My {relative} ({rel_age}) was transferred from {hospital} to {hospital2} {when}."),
    (3, "{doctor} at {hospital} started me on {dose} {when}."),
    (3, "I have an appointment at our {city} facility {future}."),
    (2, "I had labs at {hospital} {when} and my {lab}."),
    (2, "My {elder} is {old} and lives alone in {city}."),
    (2, "I saw {doctor} at {hospital} {when}."),
    (2, "My surgery at {hospital} is scheduled {future}."),
    (2, "I'm visiting {city} from {city2} and ran out of my {drug}."),
    (2, "We just moved to {city} from {city2}, I used to go to {hospital}."),
    (2, "I got my {vaccine} at the {city} clinic {when}."),
    (3, "{ids}."),
    (2, "Please call me at {phone} or email {email}."),
    (2, "My insurance ({plan}) denied the {test} I had {when}."),
    (2, "I called {when} and was given {ref}."),
    (2, "Patient {name}, {age_sex}, {mrn}, seen at {hospital} {when}."),
    (2, "I'm {first}, {age_sex}, {ssn}, {plan}."),
    (1, "I live at {street}, {city} {zip}."),
    (2, "I was born on {birthday} and I go to {hospital}."),
)

# A whole question with PHI in it.
_SINGLE: tuple[tuple[float, str], ...] = (
    (3, "Is it normal to still have {symptom} a week after my {procedure} at {hospital}?"),
    (3, "Can I get my records from {hospital} sent to your {city} office?"),
    (2, "Is {hospital} in network for my plan ({plan})?"),
    (2, "Why was my claim for the {test} on {date} denied ({ref})?"),
    (2, "Can someone call me back at {phone} about my {test} results from {date}?"),
    (2, "Does {hospital} do {procedure} or do I have to drive to {city} for it?"),
    (2, "My {elder} is {old} and fell {when}, should we go to {hospital}?"),
    (2, "Do I need to fast before my {test} {future} at {hospital}?"),
    (2, "Is there a {city} location where I can get my {vaccine}?"),
    (2, "I'm {name}, {dob}, can I refill my {drug} early?"),
    (2, "Can I reschedule my appointment {future} with {doctor}?"),
    (1, "Who do I call about the bill for {account}?"),
    (2, "Did {hospital} send my MRI from {date} to {doctor}?"),
    (2, "Can you send the forms to {email}, {mrn}?"),
    (2, "My {relative} is at {hospital}, can I bring {otc} when I visit {future}?"),
    (2, "How do I get from {city} to the {hospital} ER?"),
    (2, "Is the {city} office open on {date}?"),
)

# How a portal message may end: who is asking, and how to reach them.
_SIGN_OFF: tuple[tuple[float, str], ...] = (
    (3, "Thanks, {first}"),
    (2, "- {name}"),
    (2, "Thank you, {name}, {phone}"),
    (1, "{name}, {dob}"),
    (1, "Thanks! {first} {email}"),
    (1, "{name} {mrn}"),
)

# A sentence with no PHI that can open a PHI-free question (ages of 89 or less, bare
# years and durations are not PHI).
_PREFACE: tuple[tuple[float, str], ...] = (
    (3, "I'm a {young} year old {sex_word} with {condition}."),
    (2, "{young}{sex_letter} with {condition} and {eponym}."),
    (3, "My {family} is {young} and has {eponym}."),
    (3, "I've been taking {dose} for {duration}."),
    (2, "I was diagnosed with {condition} in {year}."),
    (3, "My BP was {bp} {time_of_day}."),
    (2, "My {lab} on my last labs."),
    (3, "I've had {symptom} for {duration}."),
    (2, "I've had a {device} since my {procedure}."),
    (2, "Took my {drug} at {clock}."),
)

# A question with no PHI.
_QUESTION: tuple[tuple[float, str], ...] = (
    (3, "Is it safe to take {otc} while on {dose}?"),
    (3, "Can I take {otc} with {drug}?"),
    (2, "My {lab}, is that bad for {condition}?"),
    (2, "What does an INR of {inr} mean if I'm on warfarin?"),
    (3, "My BP was {bp} {time_of_day}, should I be worried?"),
    (3, "How long after {procedure} can I drive?"),
    (3, "Is {symptom} a normal side effect of {drug}?"),
    (3, "I've had {symptom} for {duration}, do I need to be seen?"),
    (2, "Can I shower with a Foley catheter in?"),
    (2, "What's the difference between {eponym} and {eponym2}?"),
    (2, "Does {eponym} run in families?"),
    (2, "Should I skip my {drug} before my {test}?"),
    (2, "How often should someone with {condition} get their {test} done?"),
    (2, "Is it ok to drink alcohol on {drug}?"),
    (2, "What should we watch for with {eponym}?"),
    (2, "Am I due for my {test} at {young}?"),
    (3, "Can {drug} cause {symptom}?"),
    (2, "My TSH is {tsh}, should my levothyroxine go up from {mcg}?"),
    (2, "Is a resting heart rate of {hr} too low?"),
    (2, "What are the signs of {place_disease}?"),
    (2, "I got bitten by a tick, should I worry about Lyme disease?"),
    (2, "How long does it take to recover from {procedure}?"),
    (2, "Do I need to fast before my {test} at {clock}?"),
    (2, "Can I get the {vaccine} if I have {condition}?"),
    (2, "Does {drug} interact with grapefruit?"),
    (2, "How do I clean a {device}?"),
    (2, "Which pain relievers are safe with Stage 3 CKD?"),
    (2, "Should I take {drug} in the morning or at night?"),
    (2, "Is it normal to have {symptom} {duration} after my {procedure}?"),
    (2, "What is the Epley maneuver and does it help vertigo?"),
    (1, "How long do I have to wear a Holter monitor?"),
    (2, "Can {eponym} cause {symptom}?"),
    (2, "I missed my {drug} dose at {clock}, should I take it now?"),
    (2, "Is {temperature} a fever for a {young} year old?"),
    (1, "What does Grade 2 diastolic dysfunction mean on an echo?"),
    (2, "Is {drug} safe for someone with {eponym}?"),
    (1, "My baby's Apgar scores were 8 and 9, is that good?"),
    (2, "Is BP 120/80 still normal at {young}?"),
    (2, "Can I fly {duration} after a DVT?"),
    (2, "Is {dose} a high dose?"),
)


_IDENTIFIER_SLOTS = frozenset(
    {"ids", "mrn", "plan", "ssn", "phone", "email", "ref", "account", "dob"}
)


def _weighted(rng: Random, options: Sequence[tuple[float, str]]) -> str:
    return rng.choices([t for _, t in options], weights=[w for w, _ in options])[0]


@lru_cache(maxsize=512)
def _fields(template: str) -> tuple[str, ...]:
    return tuple(f for _, f, _, _ in string.Formatter().parse(template) if f is not None)


# --- fillers -----------------------------------------------------------------------------


class _Asker:
    """Fills template slots for one question, with the patient's identity and a voice."""

    def __init__(self, ctx: NoteContext, voice: Voice, varied_identifiers: bool) -> None:
        self.ctx, self.pt, self.rng, self.voice = ctx, ctx.pt, ctx.rng, voice
        self._relative: Relative | None = None
        # One value per question: a person gives the same MRN, plan or SSN twice.
        pt, rng = self.pt, self.rng
        self._mrn, self._plan_number = pt.mrn, pt.member_id
        self._ssn = ids.format_ssn(pt.ssn, rng)
        if varied_identifiers:
            if rng.random() < 0.5:
                self._mrn = ids.prefixed_mrn(rng, pt.mrn)
            self._plan_number = ids.plan_number(rng)
            if rng.random() < 0.35:
                self._ssn = ids.unusual_ssn(rng)
        self._fillers: dict[str, Callable[[], Piece]] = {
            name[len("slot_") :]: getattr(self, name)
            for name in dir(self)
            if name.startswith("slot_")
        }

    def add(self, b: NoteBuilder, template: str) -> None:
        text = self.voice.literal(self.rng, template)
        slots: dict[str, Piece] = {}
        for field in _fields(text):
            fill = self._fillers[field.rstrip("0123456789")]
            value = fill()
            # "{city2}" is another town than "{city}" ("drove from X to X" reads wrong).
            for _ in range(3):
                if value not in slots.values():
                    break
                value = fill()
            slots[field] = value
        b.say(text, **slots)

    # -- helpers
    def _pick(self, options: Sequence[T]) -> T:
        return self.ctx.pick(options)

    def _proper(self, value: str) -> str:
        return self.voice.proper(self.rng, value)

    def _typed(self, value: str) -> str:
        """Non-PHI words as this asker types them."""
        return self.voice.literal(self.rng, value) if self.rng.random() < 0.5 else value

    def _date(self, d: dt.date) -> Phi:
        r = self.rng.random()
        if r < 0.08:
            return Phi(f"{ids.ordinal(d.day)} of {_MONTHS[d.month - 1]}", "DATE")
        text = ids.format_date(d, self._pick(ids.DATE_STYLES))
        return Phi(text.lower() if r > 0.9 else text, "DATE")

    def _past(self) -> dt.date:
        return self.ctx.note_date - dt.timedelta(days=self.rng.randint(1, 120))

    def _weekday(self) -> str:
        day = self._pick(_WEEKDAYS)
        return day.lower() if self.rng.random() < self.voice.lower_names + 0.1 else day

    def _count(self, low: int, high: int) -> str:
        n = self.rng.randint(low, high)
        return _NUMBER_WORDS[n - 2] if n <= 6 and self.rng.random() < 0.3 else str(n)

    # -- people
    def slot_name(self) -> Piece:
        pt, r = self.pt, self.rng.random()
        if r < 0.4:
            return Phi(self._proper(f"{pt.first} {pt.last}"), "PERSON")
        if r < 0.55:
            return Phi(self._proper(pt.first), "PERSON")
        if r < 0.65:
            return Phi(self._proper(f"{pt.first} {pt.middle}. {pt.last}"), "PERSON")
        if r < 0.8:
            return Phi(self._proper(f"{pt.last}, {pt.first}"), "PERSON")
        return [f"{pt.title} ", Phi(self._proper(pt.last), "PERSON")]

    def slot_first(self) -> Piece:
        return Phi(self._proper(self.pt.first), "PERSON")

    def _rel(self) -> Relative:
        if self._relative is None:
            self._relative = self.ctx.pick(self.pt.relatives)
        return self._relative

    def slot_relation(self) -> Piece:
        rel = self._rel().relation
        return {"mother": "mom", "husband": "husband", "wife": "wife"}.get(rel, rel)

    def slot_relative(self) -> Piece:
        r = self._rel()
        who = f"{r.first} {r.last}" if self.rng.random() < 0.3 else r.first
        return [self.slot_relation(), " ", Phi(self._proper(who), "PERSON")]

    def slot_rel_age(self) -> Piece:
        """The relative's age and sex, "77M" or "94F" (AGE only over 89)."""
        relation, age = self._rel().relation, self.pt.age
        if relation in ("mother",):
            age += self.rng.randint(20, 35)
        elif relation.startswith(("daughter", "son", "niece", "nephew")):
            age = max(18, age - self.rng.randint(20, 35))
        elif relation.startswith("grand"):
            age = max(18, age - self.rng.randint(45, 60))
        else:
            age = max(18, age + self.rng.randint(-6, 6))
        female = relation in (
            "wife", "mother", "daughter", "sister", "niece", "granddaughter", "daughter-in-law"
        )  # fmt: skip
        sex = "F" if female else "M"
        return [Phi(str(age), "AGE"), sex] if age > 89 else f"{age}{sex}"

    def slot_elder(self) -> Piece:
        return self._pick(vocab.ELDERS)

    def slot_family(self) -> Piece:
        return self._pick(vocab.RELATIONS)

    def slot_old(self) -> Piece:
        unit = self._pick((" years old", "", " yo", " now"))
        return [Phi(str(self.rng.randint(90, 104)), "AGE"), unit]

    def _clinician(self) -> Clinician:
        pt = self.pt
        return self._pick((pt.attending, pt.pcp, *pt.consultants, pt.resident))

    def slot_doctor(self) -> Piece:
        c, r = self._clinician(), self.rng.random()
        if r < 0.45:
            return ["Dr. ", Phi(self._proper(c.last), "PERSON")]
        if r < 0.65:
            return ["dr ", Phi(self._proper(c.last).lower(), "PERSON")]
        if r < 0.85:
            return ["Dr. ", Phi(self._proper(f"{c.first} {c.last}"), "PERSON")]
        return [Phi(self._proper(f"{c.first} {c.last}"), "PERSON"), ", MD"]

    def slot_age_sex(self) -> Piece:
        """ "72 yo woman", "94-year-old male", "67F", "91 M" (AGE only over 89)."""
        pt = self.pt
        age: Piece = Phi(str(pt.age), "AGE") if pt.age > 89 else str(pt.age)
        if self.rng.random() < 0.3:
            return [age, self._pick(("", " ")), pt.sex]
        word = self._pick(("female", "woman", "F") if pt.sex == "F" else ("male", "man", "M"))
        unit = self._pick((" yo ", " y/o ", "-year-old ", " year old ", "yo ", " yr old "))
        return [age, unit, word]

    # -- places
    def slot_hospital(self) -> Piece:
        r, forms = self.rng.random(), hospital_forms()
        if r < 0.35:
            f = self.pt.hospital if self.rng.random() < 0.7 else self.pt.referring
            name = self._pick([x for x in (f.name, f.short, f.abbr) if x])
        elif r < 0.6:
            name = forms.full_name(self.rng)
        else:
            name = forms.short(self.rng)
        return Phi(self._proper(name), "HOSPITAL")

    def slot_city(self) -> Piece:
        """The patient's town when it is a real one (the pools also invent towns), or a
        real US place: questions name real towns."""
        home = self.pt.place.city
        if self.rng.random() < 0.4 and lexicons.place_key(home) in lexicons.us_places():
            city = home
        else:
            city = us_town(self.rng)
        return Phi(self._proper(city), "LOCATION")

    def slot_street(self) -> Piece:
        return Phi(self.pt.street, "STREET_ADDRESS")

    def slot_zip(self) -> Piece:
        return Phi(self.pt.place.zip_code, "ZIP_CODE")

    # -- dates
    def _relative_past(self) -> Piece:
        """A relative date: DATE when a weekday anchors it, plain text when it is only an
        interval ("3 days ago" names no calendar date, so it is not PHI)."""
        r = self.rng.random()
        if r < 0.2:
            return "last week"
        if r < 0.45:
            return Phi(f"last {self._weekday()}", "DATE")
        if r < 0.55:
            return Phi(f"this past {self._weekday()}", "DATE")
        if r < 0.75:
            return f"{self._count(2, 10)} days ago"
        if r < 0.88:
            return f"{self._count(2, 5)} weeks ago"
        if r < 0.94:
            return "a week ago"
        return "last month"

    def slot_when(self) -> Piece:
        if self.rng.random() < 0.5:
            return self._relative_past()
        if self.rng.random() < 0.1:
            return ["on the ", Phi(ids.ordinal(self._past().day), "DATE")]
        return ["on ", self._date(self._past())]

    def slot_future(self) -> Piece:
        r = self.rng.random()
        if r < 0.15:
            return "next week"  # an interval, not a date
        if r < 0.35:
            return Phi(f"next {self._weekday()}", "DATE")
        later = self.ctx.note_date + dt.timedelta(days=self.rng.randint(2, 60))
        return ["on ", self._date(later)]

    def slot_date(self) -> Piece:
        return self._date(self._past())

    def slot_birthday(self) -> Piece:
        return self._date(self.pt.dob)

    def slot_dob(self) -> Piece:
        label = self._pick(("DOB ", "DOB: ", "dob ", "born ", "date of birth ", "D.O.B. "))
        return [label, self.slot_birthday()]

    # -- numbers
    def slot_mrn(self) -> Piece:
        label = self._pick(
            (
                "MRN: #",
                "MRN ",
                "MRN# ",
                "mrn:",
                "MR# ",
                "med rec no. ",
                "medical record number ",
                "record # ",
                "patient ID ",
                "chart #",
                "MRN #",
            )  # fmt: skip
        )
        return [label, Phi(self._mrn, "MRN")]

    def slot_plan(self) -> Piece:
        pt, r = self.pt, self.rng.random()
        if r < 0.3:
            label = self._pick((f"{pt.plan_name} member ID ", "member ID ", "member # "))
            return [label, Phi(pt.member_id, "HEALTH_PLAN_ID")]
        label = self._pick(
            (
                "ins. #",
                "insurance ID: ",
                "policy ",
                "policy # ",
                "policy no. ",
                "plan ",
                "plan ID ",
                "subscriber ID ",
                "ins # ",
                "insurance # ",
            )  # fmt: skip
        )
        return [label, Phi(self._plan_number, "HEALTH_PLAN_ID")]

    def slot_ssn(self) -> Piece:
        label = self._pick(
            ("SSN: ", "SSN ", "ssn# ", "SS# ", "social security number ", "my social is ")
        )
        return [label, Phi(self._ssn, "US_SSN")]

    def slot_phone(self) -> Piece:
        return Phi(ids.format_phone(self.pt.cell_phone, self.rng), "PHONE_NUMBER")

    def slot_email(self) -> Piece:
        return Phi(self.pt.email, "EMAIL_ADDRESS")

    def slot_ref(self) -> Piece:
        label = self._pick(
            (
                "confirmation # ",
                "confirmation number ",
                "ref code ",
                "reference # ",
                "ticket #",
                "case number ",
                "claim # ",
                "auth # ",
            )  # fmt: skip
        )
        return [label, Phi(ids.reference_code(self.rng), "ID_NUMBER")]

    def slot_account(self) -> Piece:
        label = self._pick(("account # ", "acct no. ", "billing account "))
        return [label, Phi(self.pt.account, "ACCOUNT_NUMBER")]

    def slot_ids(self) -> Piece:
        """One or two identifiers, as people list them after their name."""
        kinds = (self.slot_mrn, self.slot_dob, self.slot_ssn, self.slot_plan, self.slot_phone)
        first, second = self.rng.sample(range(len(kinds)), 2)
        if self.rng.random() < 0.5:
            return kinds[first]()
        return [kinds[first](), ", ", kinds[second]()]

    # -- not PHI
    def slot_symptom(self) -> Piece:
        return self._typed(self._pick(vocab.SYMPTOMS))

    def slot_procedure(self) -> Piece:
        return self._typed(self._pick(vocab.PROCEDURES))

    def slot_test(self) -> Piece:
        return self._pick(vocab.TESTS)

    def slot_drug(self) -> Piece:
        return self._pick(vocab.DRUGS)

    def slot_otc(self) -> Piece:
        return self._pick(vocab.OTC)

    def slot_dose(self) -> Piece:
        return self._pick(vocab.DOSES)

    def slot_eponym(self) -> Piece:
        return self._typed(self._pick(vocab.EPONYMS))

    def slot_condition(self) -> Piece:
        return self._pick(vocab.CONDITIONS)

    def slot_place_disease(self) -> Piece:
        return self._pick(vocab.PLACE_DISEASES)

    def slot_device(self) -> Piece:
        return self._pick(vocab.DEVICES)

    def slot_vaccine(self) -> Piece:
        return self._pick(vocab.VACCINES)

    def slot_lab(self) -> Piece:
        return vocab.lab_result(self.rng)

    def slot_bp(self) -> Piece:
        return vocab.bp(self.rng)

    def slot_clock(self) -> Piece:
        return vocab.clock(self.rng)

    def slot_time_of_day(self) -> Piece:
        return self._pick(vocab.TIMES_OF_DAY)

    def slot_duration(self) -> Piece:
        return self._pick(vocab.DURATIONS)

    def slot_young(self) -> Piece:
        return str(self.rng.randint(18, 89))

    def slot_sex_word(self) -> Piece:
        return self._pick(("woman", "man", "female", "male"))

    def slot_sex_letter(self) -> Piece:
        return self._pick(("F", "M", "f", "m"))

    def slot_year(self) -> Piece:
        return vocab.bare_year(self.rng, self.ctx.note_date.year)

    def slot_inr(self) -> Piece:
        return f"{self.rng.uniform(1.0, 4.8):.1f}"

    def slot_tsh(self) -> Piece:
        return f"{self.rng.uniform(0.2, 9.8):.2f}"

    def slot_mcg(self) -> Piece:
        return vocab.dose_change(self.rng)

    def slot_hr(self) -> Piece:
        return vocab.heart_rate(self.rng)

    def slot_temperature(self) -> Piece:
        return vocab.temperature(self.rng)


# --- the writer --------------------------------------------------------------------------


def clinical_question(
    b: NoteBuilder, ctx: NoteContext, *, varied_identifiers: bool = False
) -> None:
    """Write one clinical question (a ``NoteBuilder`` note writer, like the other types).

    With probability ``PHI_FREE_SHARE`` it holds no PHI at all.  Identifiers are the
    patient's own (consistent with the patient's other notes and structurally valid, as
    in every note type) unless ``varied_identifiers``: then MRNs may carry letters
    ("AB-123456"), SSNs may be ones a validator rejects ("987-65-4321", area 9xx, group
    00) and plan numbers come from other cards ("HMO-234567", "789-1234-567").  The
    standalone question set (``sample_data.generate.iter_questions``) uses those.
    """
    rng = ctx.rng
    asker = _Asker(ctx, _voice(rng), varied_identifiers)
    phi_free = rng.random() < PHI_FREE_SHARE
    if phi_free:
        parts = [_weighted(rng, _QUESTION)]
        if rng.random() < 0.4:
            parts.insert(0, _weighted(rng, _PREFACE))
    elif rng.random() < 0.3:
        parts = [_weighted(rng, _SINGLE)]
    else:
        context = _weighted(rng, _CONTEXT)
        if not _IDENTIFIER_SLOTS.intersection(_fields(context)) and rng.random() < 0.3:
            context = context[:-1] + " ({ids})."  # "... last week (MRN: #AB-123456)."
        parts = [context, _weighted(rng, _QUESTION)]
        if rng.random() < 0.25:
            parts.reverse()
    last = len(parts) - 1
    for i, template in enumerate(parts):
        if i:
            b.add(" ")
        if i == last and template.endswith("?"):
            template = template[:-1] + asker.voice.end
        asker.add(b, template)
    if not phi_free and rng.random() < 0.3:
        b.add(rng.choice((" ", "\n", "\n\n")))
        asker.add(b, _weighted(rng, _SIGN_OFF))
