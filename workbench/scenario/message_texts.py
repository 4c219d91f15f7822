"""Wording of support messages: templates in Swedish and English, with deliberate typos.

Placeholders are filled column-wise by :mod:`workbench.scenario.messages`: ``{own_name}``,
``{own_id}``, ``{seen_name}``, ``{seen_id}``, ``{when}``, ``{field}``, ``{new_value}``,
``{listing}``, ``{district}``. Fault reports come in many structures so a classifier cannot
key on one sentence; the unrelated categories include hard negatives (cannot log in, locked
account, blank page, a partner's data) that share words with the fault reports.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "FAULT",
    "FAULT_SUBJECTS",
    "FIELD_PHRASES",
    "GREETINGS",
    "OWNER",
    "OWNER_SUBJECTS",
    "SIGNOFFS",
    "UNRELATED",
    "WHEN_WORDS",
]

# Reports by people who landed in someone else's account.
FAULT = {
    "sv": (
        "När jag loggade in på Mina sidor {when} hamnade jag på någon annans sida. Där stod namnet {seen_name}. Vad är det som händer?",
        "Jag loggade in {when} och var inloggad som en annan person, {seen_name}. Jag blev väldigt orolig.",
        "Jag ser någon annans uppgifter när jag loggar in! Personnummer och adress till en person jag inte känner.",
        "Fel konto?? Jag kom in på ett konto som inte är mitt, kundnummer {seen_id}.",
        "jag hamnade på nån annans konto när jag logade in {when}. det står {seen_name} överallt",
        "Det verkar vara något allvarligt fel på er sida. Istället för mina egna uppgifter visades en annan persons namn, personnummer och lön.",
        "Varför visas en annan persons profil när jag loggar in med BankID? Det står {seen_name} och inte mitt namn.",
        "Jag loggade in och kom till en främmande persons Mina sidor. Jag har inte rört något men ni borde kolla detta.",
        "Jag ändrade mina uppgifter {when} men upptäckte sen att det var någon annans konto jag var inne på ({seen_name}). Kan ni ändra tillbaka?",
        "Er sida visar fel persons uppgifter. Jag loggade in som mig själv men fick upp sidan för {seen_name} med adress och allt.",
        "Någon annans namn och personnummer syntes på mina sidor när jag loggade in {when}. Är inte detta ett dataintrång?",
        "HEJ! jag kom in på en annan användares konto. kundnummer {seen_id}. fixa detta",
        "{when} när jag loggade in var det en helt annan persons uppgifter på sidan. Jag trodde först att jag skrivit fel personnummer.",
        "Mina sidor visar en annan kund. Har jag blivit hackad eller är det ert fel?",
        "Jag blev inloggad på fel konto – det var inte mina intressen och inte min adress som visades.",
        "Sidan visade uppgifter om en annan person ({seen_name}, kundnr {seen_id}) när jag loggade in. Hur kan det hända?",
        "När jag loggade in stod det att jag var {seen_name}. Det är inte jag.",
        "Obehagligt: jag såg en främlings lön, arbetsgivare och telefonnummer inne på Mina sidor {when}.",
        "Hej jag var inne på mina sidor {when} och det var inte mitt konto utan nagon annans, hur kan det bli så",
        "Vill bara tipsa om att man kan hamna i fel konto hos er. Jag kom in som {seen_name}.",
    ),
    "en": (
        "I logged in to My pages {when} and saw someone else's name and personnummer. It was not my account.",
        "I was logged in as another person! The page said {seen_name}.",
        "Wrong account? When I log in I see another person's details (address, salary, phone).",
        "Your website showed me somebody elses profile after I logged in with BankID.",
        "I logged in {when} and ended up in a strangers account, customer number {seen_id}. Please look into this, it is a serious privacy issue.",
        "There seems to be a bug: I can see another customer's personal data on Mina sidor.",
        "Logged in {when}, and the page showed the name {seen_name} instead of mine.",
        "someone elses account showed up when i logged in. is my data visible to others too??",
        "I believe I was logged into the wrong account. Name, address and income of a person I don't know were displayed.",
        "I think your login is broken - it put me in another user's account.",
        "When I signed in I got the My pages of {seen_name}. I changed some details before I realised it wasn't me, sorry!",
        "Privacy problem: after login I saw a different person's personnummer and employer.",
        "The account I was logged into {when} was not mine. Other name, other address.",
        "Why am I seeing another person's profile? I logged in with my own BankID.",
        "I got access to another applicant's page (customer no {seen_id}). This should not be possible.",
        "Your site shows me the details of somebody else instead of my own.",
        "hi, logged in {when} and it said i was {seen_name}?? thats not me",
    ),
}
FAULT_SUBJECTS = {
    "sv": (
        "Fel konto",
        "Någon annans uppgifter!",
        "Säkerhetsproblem på Mina sidor",
        "Inloggning",
        "Mina sidor",
        "Allvarligt fel",
        "fel person",
        "Dataintrång?",
        "Fråga",
        None,
    ),
    "en": ("Wrong account", "Someone else's data", "Security issue", "Login problem", "My pages", "Privacy", None),
}

# Reports by owners who found that someone else had changed their profile.
OWNER = {
    "sv": (
        "Någon har ändrat {field} på Mina sidor. Det har inte jag gjort.",
        "Jag loggade in och såg att {field} ändrats till något jag inte känner igen: {new_value}.",
        "Har någon annan varit inne på mitt konto? Jag ser att någon ändrat {field} och det var inte jag.",
        "Någon har bytt {field} på mitt konto utan att jag vet om det!",
        "Mina uppgifter är ändrade av någon annan, {field} stämmer inte längre ({new_value}).",
        "någon har varit inne och ändrat i min profil. {field} är fel nu",
    ),
    "en": (
        "Someone changed {field} on My pages. It wasn't me.",
        "I see that {field} was changed to {new_value}, which I don't recognise. Has someone else been in my account?",
        "Somebody has edited my profile without my knowledge ({field}).",
        "On my account {field} is wrong now, someone else must have changed it.",
    ),
}
OWNER_SUBJECTS = {
    "sv": ("Ändrade uppgifter", "Någon har ändrat mina uppgifter", "Mitt konto", "Fel uppgifter", None),
    "en": ("Changed details", "Someone changed my profile", "My account", None),
}
FIELD_PHRASES = {
    "sv": {
        "phone": "mitt telefonnummer",
        "email": "min e-postadress",
        "address": "min adress",
        "postal_code": "mitt postnummer",
        "city": "min ort",
        "employer": "min arbetsgivare",
        "annual_income": "min inkomst",
        "co_applicant_name": "min medsökande",
        "co_applicant_personnummer": "min medsökandes personnummer",
        "name": "mitt namn",
    },
    "en": {
        "phone": "my phone number",
        "email": "my e-mail address",
        "address": "my address",
        "postal_code": "my postcode",
        "city": "my city",
        "employer": "my employer",
        "annual_income": "my income",
        "co_applicant_name": "my co-applicant",
        "co_applicant_personnummer": "my co-applicant's personnummer",
        "name": "my name",
    },
}

# Everything else support receives: (weight, may come by web form, sv subjects, sv bodies,
# en subjects, en bodies). "login", "locked" and "blank" are the hard negatives.
UNRELATED = {
    "login": (
        14,
        False,
        ("Kan inte logga in", "Inloggning fungerar inte", "Problem med inloggning", None),
        (
            "Jag kan inte logga in på Mina sidor. Det står bara att tjänsten inte är tillgänglig.",
            "kan inte logga in, har försökt flera gånger idag",
            "Varför går det inte att logga in? Jag måste svara på ett erbjudande.",
            "Inloggningen fungerar inte för mig, varken med BankID eller lösenord.",
            "Hej, när kommer inloggningen att fungera igen? Jag kommer inte in på mitt konto.",
        ),
        ("Cannot log in", "Login not working", None),
        (
            "I cannot log in to My pages, it says the service is unavailable.",
            "Login does not work. I have tried several times today.",
            "When will login work again? I can't get into my account.",
        ),
    ),
    "bankid": (
        10,
        False,
        ("BankID", "Problem med BankID", "Mobilt BankID"),
        (
            "Mitt mobila BankID startar inte när jag försöker logga in hos er.",
            "Får felkod när jag loggar in med BankID, vad ska jag göra?",
            "BankID-appen säger att ingen legitimering pågår. Fungerar det hos er?",
        ),
        ("BankID problem", "BankID"),
        ("Mobile BankID does not start when I try to log in.", "I get an error code when logging in with BankID."),
    ),
    "password": (
        8,
        False,
        ("Glömt lösenord", "Nytt lösenord", "Lösenord"),
        (
            "Jag har glömt mitt lösenord. Kan ni skicka ett nytt? Kundnummer {own_id}.",
            "Fick aldrig mejlet med nytt lösenord.",
            "Hur byter jag lösenord? Jag har inget BankID.",
        ),
        ("Forgot password", "Password reset"),
        (
            "I forgot my password, can you send a new one? Customer number {own_id}.",
            "The password reset e-mail never arrived.",
        ),
    ),
    "locked": (
        4,
        False,
        ("Låst konto", "Mitt konto är låst", None),
        (
            "Mitt konto är låst efter för många försök. Kan ni låsa upp det?",
            "Det står att mitt konto är spärrat. Varför?",
        ),
        ("Account locked",),
        ("My account is locked after too many attempts, please unlock it.",),
    ),
    "blank": (
        5,
        True,
        ("Sidan är tom", "Fel på Mina sidor", "Felmeddelande"),
        (
            "Jag ser inte mina egna uppgifter, sidan är bara vit.",
            "Mina intressen syns inte längre på Mina sidor. Har de försvunnit?",
            "Får ett felmeddelande när jag öppnar min profil.",
            "Sidan laddar inte, det snurrar bara.",
        ),
        ("Blank page", "Error on My pages"),
        (
            "I did not see my own data, page is blank.",
            "My interests are not shown any more. Were they deleted?",
            "I get an error message when I open my profile.",
        ),
    ),
    "fee": (
        16,
        True,
        ("Köavgift", "Årsavgift", "Faktura", "Betalning"),
        (
            "Jag har betalat årsavgiften men det syns inte på Mina sidor.",
            "Hur mycket är köavgiften för {year} och när ska den vara betald?",
            "Jag glömde betala avgiften. Förlorar jag min kötid nu?",
            "Kan jag få en ny faktura på köavgiften? Kundnummer {own_id}.",
            "varför har jag fått två fakturor på avgiften",
        ),
        ("Queue fee", "Annual fee", "Invoice"),
        (
            "I paid the annual fee but it is not shown on My pages.",
            "How much is the queue fee for {year}?",
            "I forgot to pay the fee. Will I lose my queue time?",
        ),
    ),
    "queue": (
        16,
        True,
        ("Kötid", "Min köplats", "Fråga om kön", None),
        (
            "Hur länge har jag stått i kö? Det står ett annat datum än jag trodde.",
            "Varför står jag inte högre upp i kön för lägenheten {listing}?",
            "Kan min sambo ta över min kötid?",
            "Kan min sambo se mina uppgifter om vi står som medsökande?",
            "Min köplats verkar ha ändrats, jag stod som nummer 3 förra veckan.",
        ),
        ("Queue time", "Queue position"),
        (
            "How long have I been in the queue?",
            "Why am I not higher in the queue for apartment {listing}?",
            "Can my partner take over my queue time?",
        ),
    ),
    "listing": (
        14,
        True,
        ("Lägenhet {listing}", "Fråga om annons", "Visning", "Lägenhet i {district}"),
        (
            "När är visningen av lägenheten {listing} i {district}?",
            "Finns det hiss i huset för annons {listing}?",
            "Jag har anmält intresse för {listing}, när får jag besked?",
            "Hur många rum har lägenheten i {district}? Det står olika i annonsen.",
        ),
        ("Apartment {listing}", "Viewing", "Question about a listing"),
        (
            "When is the viewing of apartment {listing} in {district}?",
            "I registered interest in {listing}. When will I hear back?",
        ),
    ),
    "address": (
        8,
        True,
        ("Adressändring", "Ny adress", "Flytt"),
        (
            "Jag har flyttat och vill ändra min adress, hur gör jag?",
            "Jag har ändrat min adress men den nya syns inte ännu.",
            "Ska jag meddela er när jag byter telefonnummer?",
        ),
        ("Change of address", "New address"),
        (
            "I have moved and want to change my address.",
            "I changed my e-mail address but I still get mail to the old one.",
        ),
    ),
    "offer": (
        7,
        True,
        ("Erbjudande", "Svar på erbjudande", "Kontrakt"),
        (
            "Jag har fått ett erbjudande på {listing}. Hur tackar jag ja?",
            "Kan jag tacka nej till erbjudandet utan att förlora kötid?",
            "När kan jag skriva kontrakt för lägenheten i {district}?",
        ),
        ("Offer", "Contract"),
        (
            "I received an offer for {listing}. How do I accept it?",
            "Can I decline the offer without losing queue time?",
        ),
    ),
}

GREETINGS = {
    "sv": ("Hej!\n\n", "Hej,\n", "Hej\n", "", "Hejsan!\n", "God dag,\n\n"),
    "en": ("Hi,\n\n", "Hello,\n", "", "Dear support,\n\n"),
}
SIGNOFFS = {
    "sv": (
        "\n\nMvh\n{own_name}",
        "\n\n/{own_name}",
        "",
        "\n\nHälsningar {own_name}",
        "\n\nTack på förhand!\n{own_name}",
        "\n\nSkickat från min iPhone",
    ),
    "en": ("\n\nRegards,\n{own_name}", "\n\nThanks\n{own_name}", "", "\n\nSent from my iPhone"),
}


class _WhenWords(TypedDict):
    today: str
    yesterday: str
    weekday: tuple[str, ...]  # Monday first
    at: str  # before the clock time
    sep: str  # between hours and minutes


# Day and time-of-day words for "{when}", per language.
WHEN_WORDS: dict[str, _WhenWords] = {
    "sv": {
        "today": "idag",
        "yesterday": "igår",
        "weekday": ("i måndags", "i tisdags", "i onsdags", "i torsdags", "i fredags", "i lördags", "i söndags"),
        "at": " kl ",
        "sep": ".",
    },
    "en": {
        "today": "today",
        "yesterday": "yesterday",
        "weekday": ("on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday", "on Sunday"),
        "at": " at ",
        "sep": ":",
    },
}
