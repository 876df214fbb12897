"""The content patterns changed in the third classifier round (issue 12): whose phone or
email a post gives, health said of a student only, more ways to write a number, a grade or
an insult; each case is one the earlier patterns got wrong."""

from __future__ import annotations

import pytest

from auditor.config import ClassifierConfig, RulesConfig
from auditor.results import Status
from auditor.rules import catalog
from auditor.text.sentences import sentences
from tests.rules.helpers import ctx, matcher, posts, snap

PATTERNS_ONLY = RulesConfig(classifier=ClassifierConfig(enabled=False))


def speech_fails(text: str) -> bool:
    """Whether DS 3's patterns alone (no classifier) fail a post of ``text``."""
    check = catalog.get("DS3.respectful-speech").check
    return check(snap(posts=posts(text)), ctx(rules=PATTERNS_ONLY)).status == Status.FAIL


def categories(text: str, rules: RulesConfig | None = None) -> set[str]:
    """The DS 6 categories found in ``text``."""
    return {d.category for d in matcher(rules).disclosures(text)}


@pytest.mark.parametrize(
    "text",
    [
        "Kat's new number: 203 5550 191",
        "Call Linh at 1-203-555-0140 with any food allergies (Bao's mom).",
        "Ethan's grandpa can pick up the uniform. His cell: 203•555•0122.",
        "Jordan left his phone on the bus, please call my cell 203–555–0147",
        "Our landline: (203)-555-0161, ask for Tina (Ellie's mom)",
        "Marcus's dad called from 203/555-0118 about the jacket.",
    ],
)
def test_phone_numbers_grouped_any_way(text: str) -> None:
    assert "phone" in categories(text, PATTERNS_ONLY)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Kevin's grandma: two oh three, five five five, oh one two eight.", True),
        ("pls call my dad if i'm not there by 6, 203 five five five 0 1 2 4", True),
        ("Count with me: one, two, three, four, go!", False),
        ("Mock trial: our case number this year is 2026-113442 (fictional!).", False),
    ],
)
def test_phone_numbers_said_in_words(text: str, found: bool) -> None:
    assert ("phone" in categories(text, PATTERNS_ONLY)) is found


@pytest.mark.parametrize(
    "text",
    [
        "Questions about the schedule? Call Coach Mendez at 203-555-0131.",
        "Coach D here. For game-day emergencies only, my cell is 203-555-0199.",
        "Coach's cell for game-day emergencies only: 203-555-0150.",
        "Llamen a la oficina principal al 203-555-0100 si su hijo va a faltar.",
        "The health center books physicals: 203-797-4800 ext. 3310.",
        "My bakery is doing 20% off cakes for graduation parties! Call 203-555-0161 to order!",
        "Limpieza de casas, con referencias! Call Rosa 203-555-0179",
    ],
)
def test_a_coachs_an_offices_or_a_business_number_is_not_a_students(text: str) -> None:
    assert "phone" not in categories(text, PATTERNS_ONLY)


@pytest.mark.parametrize(
    "text",
    [
        "My son mows lawns for clients all summer, text 203-555-0143",
        "Homemade cookies for the trip, text me at 203-555-0168 to order (Nico's mom)",
    ],
)
def test_an_ad_that_names_a_student_or_family_still_gives_their_number(text: str) -> None:
    assert "phone" in categories(text, PATTERNS_ONLY)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Boosters' email is dhsfootballboosters@gmail.com for sponsorship questions.", False),
        ("Reminder: the team email is dhsgirls.soc@gmail.com for absences.", False),
        ("PTO newsletter: reply to danburyptocouncil@gmail.com to volunteer.", False),
        ("Questions? email coach.ortiz.dhs@gmail.com", False),
        ("lab partners email me at soccerstar_miguel07@yahoo.com thx", True),
        ("Our Key Club president: keyclub.dev@students.district.org", True),
    ],
)
def test_an_organisations_address_is_not_a_students(text: str, found: bool) -> None:
    assert ("email" in categories(text, PATTERNS_ONLY)) is found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Please donate to my GoFundMe for my mom's surgery, anything helps", False),
        ("My husband is a personal injury lawyer, call him if you need help!", False),
        ("Autism Acceptance Month: Maya and the Unified team wear blue socks Tuesday.", False),
        ("Is this the real link for the form? danbury-k12.us/physicals", False),
        ("Marcus needs to take his Adderall at noon on tournament days.", True),
        ("Sofía se operó del apéndice y vuelve en dos semanas.", True),
        ("Abril tiene alergia a las nueces, cuidado con los snacks.", True),
    ],
)
def test_health_is_a_students_not_a_relatives_or_a_programs(text: str, found: bool) -> None:
    assert ("health" in categories(text, PATTERNS_ONLY)) is found


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (
            "La cena será en la casa de la familia Pereira, 65 Millbrook Rd. ¡Traigan algo!",
            "address",
        ),
        ("Sleepover at Jenna's! 1440 Padanaram Rd, bring a pillow", "address"),
        ("Nate, your English grade dropped to a 60, so you'll sit Saturday.", "grade"),
        ("Ollie has a 55 in Physics, he needs extra help before he can travel.", "grade"),
    ],
)
def test_spanish_home_addresses_and_numeric_grades(text: str, category: str) -> None:
    assert category in categories(text, PATTERNS_ONLY)


def test_a_title_does_not_end_a_sentence() -> None:
    text = "Happy birthday to our principal, Dr. Lane, whose birthday is today. Go team!"
    assert sentences(text) == [
        "Happy birthday to our principal, Dr. Lane, whose birthday is today.",
        "Go team!",
    ]


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("fcking hate this team sometimes", True),
        ("FCK NEWTOWN", True),
        ("idgaf about the dress code honestly", True),
        ("¡Puta madre, perdimos otra vez!", True),
        ("gonna beat Jamal's a$$ in 2K tonight", True),
        ("that's so gay, Marcus wearing pink cleats", True),
        ("Pedro, eres un inútil, mejor quédate en tu casa.", True),
        ("este clima es una basura, quiero mi cama", False),
        ("Pass the bass to Cass after the glass recital.", False),
    ],
)
def test_more_profanity_and_spanish_insults(text: str, flagged: bool) -> None:
    assert (matcher(PATTERNS_ONLY).speech(text) is not None) is flagged


@pytest.mark.parametrize(
    ("author", "category"), [("o", "private financial gain"), ("s1", "commercial or advertising")]
)
def test_a_staff_ad_in_their_own_voice_is_private_gain(author: str, category: str) -> None:
    text = "Use my promo code HATTERS for 20% off at the sporting goods store"  # "commercial"
    result = catalog.get("DS8.no-commercial-content").check(
        snap(posts=posts(text, author=author)), ctx(rules=PATTERNS_ONLY)
    )
    assert result.status == Status.FAIL
    assert [e.value.split(":")[0] for e in result.evidence] == [category]


@pytest.mark.parametrize(
    ("author", "text", "flagged"),
    [
        ("o", "For game-day emergencies only, my cell is 203-555-0199.", False),
        ("s1", "If I'm late pls text me at 203-555-0199", True),
        ("o", "Pickup: Ana's aunt will be at the side door, text me or her at 203-555-0153.", True),
    ],
)
def test_a_staff_members_own_number_is_not_a_students(
    author: str, text: str, flagged: bool
) -> None:
    result = catalog.get("DS6.confidentiality").check(
        snap(posts=posts(text, author=author)), ctx(rules=PATTERNS_ONLY)
    )
    assert (result.status == Status.FAIL) is flagged


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Lista del viaje: Yaritza Colón estudiante no. 233104, Kevin Ortiz no. 233118.", True),
        ("Robotics roster: Mia K. #204418, Omar F. #204776", True),
        ("Estudiante número 230118 (mi hija Ana) no aparece en la lista", True),
        ("Order #204418 shipped today", False),
    ],
)
def test_student_ids_in_spanish_and_in_rosters(text: str, found: bool) -> None:
    rules = RulesConfig(student_id_pattern=r"\b\d{6}\b", classifier=ClassifierConfig(enabled=False))
    assert ("student-id" in categories(text, rules)) is found


@pytest.mark.parametrize(
    "text",
    [
        "Reminder to all families: if your child carries an EpiPen, the trainer needs a backup.",
        "Staff: any student health issues or discipline matters belong in PowerSchool.",
        "Please remind your kids: if they need extra time under an IEP or 504, contact me.",
        "Thanks to everyone at our Disability Awareness Assembly!",
        "The AD approved our Coaches vs Cancer game.",
        "Ms. Vale (our sub coach) is out sick with covid this week, so practice is canceled.",
    ],
)
def test_reminders_to_everyone_and_staff_news_name_no_student(text: str) -> None:
    assert not categories(text, PATTERNS_ONLY)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Buy Dogecoin now, seriously, I'll show you how", True),
        ("¡Inviertan en criptomonedas conmigo! Ganancias garantizadas", True),
        ("Crypto is the future! I can get anyone started, guaranteed returns", True),
        ("Our econ class is studying how bitcoin works and why its price is volatile.", False),
    ],
)
def test_crypto_pitches_are_commercial(text: str, flagged: bool) -> None:
    found = [f.category for f in matcher(PATTERNS_ONLY).commercial(text)]
    assert (found == ["commercial"]) is flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Booster 50/50 raffle tickets online at the booster site", False),
        ("KEY CLUB merch fundraiser: pay $15 in room 210!", False),
        ("Robotics team hoodies are $40 and every dollar goes to our registration", False),
        ("Buy tickets at gofan.co", False),
        ("Knights of Columbus 50/50 raffle, tickets from me", True),
        ("Jump Rope for Heart starts Monday, donations go to the heart association", False),
        ("Red Cross blood drive in the gym Friday, donations welcome", False),
        ("Donate to my nephew's GoFundMe for his surgery", True),
    ],
)
def test_the_clubs_own_sales_and_raffles_are_sanctioned(text: str, flagged: bool) -> None:
    found = [f.category for f in matcher(PATTERNS_ONLY).commercial(text)]
    assert ("solicitation" in found) is flagged


@pytest.mark.parametrize(
    "text",
    [
        "Coach Rivera, Emma's cell is 203-555-0147 if she misses the bus.",
        "Coach K here! Jake's mom says reach him at 203-555-0147",
        "Coach, her new number is 203-555-0147 (Lily lost her phone)",
    ],
)
def test_a_coachs_name_near_a_students_number_does_not_hide_it(text: str) -> None:
    assert "phone" in categories(text, PATTERNS_ONLY)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Jake's email is captainjake07@gmail.com", True),
        ("Reach Maya at maya.steamer@gmail.com about the carpool", True),
        ("Crypto club sign-ups: cryptokid22@gmail.com is Leo's", True),
        ("Questions? dhsboosters@gmail.com", False),
        ("Email the PTO at danbury.pto@gmail.com", False),
        ("team.danbury.soccer@gmail.com has the schedule", False),
    ],
)
def test_an_organisations_word_counts_only_as_a_part_of_the_address(text: str, found: bool) -> None:
    assert ("email" in categories(text, PATTERNS_ONLY)) is found


@pytest.mark.parametrize(
    "text",
    [
        "Jake asked me to post his number: 203-555-0147",
        "Lily lost her phone - she says text me at 203-555-0147 (her new one)",
        "Anyone who finds Sam's bag, DM me or his number 203-555-0147",
    ],
)
def test_a_staff_member_passing_on_a_students_number_still_discloses_it(text: str) -> None:
    result = catalog.get("DS6.confidentiality").check(
        snap(posts=posts(text, author="o")), ctx(rules=PATTERNS_ONLY)
    )
    assert result.status == Status.FAIL


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Ass't Coach Rivera will run practice today", False),
        ("Great game, Ass. Coach Kim!", False),
        ("move your ass, we're late", True),
        ("callate puta", True),
    ],
)
def test_words_that_are_names_or_titles_capitalised_count_only_in_lower_case(
    text: str, flagged: bool
) -> None:
    assert (matcher(PATTERNS_ONLY).speech(text) is not None) is flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("s h i t show of a game tonight", True),
        ("F-U-C-K this bus schedule", True),
        ("what a b.1.t.c.h move", True),
        ("wtaf happened on defense", True),
        ("Sections A-C meet in the gym, D-F in the cafeteria", False),
        ("Spell it out for the judges: C-A-T-S, our mascot", False),
        ("We chanted U-S-A at the exhibition", False),
        ("row a s s is for the seniors", False),  # three letters: never spelled out
    ],
)
def test_profanity_spelled_out_one_letter_at_a_time(text: str, flagged: bool) -> None:
    assert speech_fails(text) is flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("honestly we should ban the Muslims from the prayer room", True),
        ("no Mexicans on the relay team pls", True),
        ("too many illegals in this club now", True),
        ("touch my bike again and I'll break your legs", True),
        ("by Friday you'll wish you'd never been born", True),
        ("our treasurer is a lying witch", True),
        ("everyone knows the bus driver is a drunk", True),
        ("reminder: nobody talk with her at the dance", True),
        ("that penalty was BS", True),
        ("effing traffic again", True),
        ("si lo vuelves a hacer te vas a arrepentir", True),
        ("We break their ankles with that crossover lol", False),
        ("Ms. Park has a BS in Chemistry and coaches JV", False),
        ("the Jewish Student Union meets Tuesday", False),
        ("Heritage night honors Mexican and Asian families", False),
    ],
)
def test_round_seven_speech_patterns(text: str, flagged: bool) -> None:
    assert speech_fails(text) is flagged


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Coach Dwyer's cell for away games: 203-555-0102", set()),
        ("Coach, Emma's cell is 203-555-0147 if the bus is late", {"phone"}),
        ("Questions? danburyhighpto@gmail.com", set()),
        ("Maya's mom: maya.aptor@gmail.com", {"email"}),
    ],
)
def test_a_coachs_named_cell_and_a_pto_address_are_not_students(text: str, found: set) -> None:
    assert categories(text, PATTERNS_ONLY) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Open to players born 2009-2011 only.", set()),
        ("Maya was born 3/14/2010, cake after practice", {"birth-date"}),
        ("Get well soon to Coach Pham, recovering from knee surgery!", set()),
        ("Coach Pham said Emma had knee surgery", {"health"}),
        ("Order confirmation #771902: hoodies are in", set()),
        ("Blooket game PIN for Friday's review: 482913", set()),
        ("Bus 12 riders: student ID 204519 left a bag", {"student-id"}),
        ("Vendo empanadas, $20 la docena, pedidos al 203-555-0176", set()),
        ("My brother-in-law's company paints houses, free estimates: 203-555-0188", set()),
        ("Call Liam's mom at 203-555-0111", {"phone"}),
    ],
)
def test_round_seven_confidentiality_negatives(text: str, found: set) -> None:
    assert categories(text, PATTERNS_ONLY) == found


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("que jogo de merda, perdemos de novo", True),
        ("vai se ferrar, você pegou meu lugar", True),
        ("fkn finally the floor is done", True),
        ("the ref was a total d-bag", True),
        ("🖕 to the visiting section", True),
        ("screw you Nate, you ditched us", True),
        ("the screw you need is in the red bin", False),
        ("Screw it, we ride at 5", False),
        ("Obrigado a todos pela festa!", False),
    ],
)
def test_round_eight_speech_words(text: str, flagged: bool) -> None:
    assert speech_fails(text) is flagged
