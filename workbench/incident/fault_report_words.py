"""The fault-report rules' building blocks: the words each family is made of, in Swedish and English.

Every pattern here runs over normalised text (lower case, å/ä → a, ö → o; see
:func:`workbench.incident.classify.normalise`). The rules that put them together are in
:mod:`workbench.incident.fault_report_rules`; a word added here reaches every rule that uses it.
"""

from __future__ import annotations

__all__: list[str] = []  # building blocks only, for fault_report_rules

_SV_SOMEONE = r"(?:nagon|nan|nagons|nans)"
_SV_PEOPLE = r"(?:person|kund|anvandare|sokande|manniska|kvinna|man|medlem|familj|kille|tjej|dam|herre|hyresgast)"
_SV_KIND = rf"{_SV_PEOPLE}(?:s|ens|ns)?"
_SV_WHOSE = rf"{_SV_PEOPLE}(?:s|ens|ns)"  # possessive: "en annan persons", not "en annan person"
_SV_OTHER = (
    rf"(?:{_SV_SOMEONE}\s+annans|(?:en\s+)?(?:helt\s+)?annan\s+{_SV_WHOSE}|fel\s+{_SV_WHOSE}"
    rf"|(?:en\s+)?(?:helt\s+)?frammande(?:\s+{_SV_WHOSE})?|(?:en\s+)?framlings?)"
)
_SV_THING = (
    r"(?:konto\w*|sida|sidor|sidan|profil\w*|\w*uppgifter\w*|info|information|namn(?:et)?|personnumm?(?:er|ret)|adress\w*|lon(?:en)?"
    r"|\w*inkomst(?:en)?|arbetsgivar(?:e|en)|(?:telefon|mobil)numm?(?:er|ret)|e-?post\w*|mejl\w*|mina\s+sidor|\w*intressen|bild|foto)"
)
_SV_CHANGED = r"(?:andrat|andrats|bytt|bytts|andrade|andrad|redigerat|uppdaterat|raderat)"
_EN_SOME = r"(?:som+e?(?:one|body))"
_EN_OTHER = (
    rf"(?:(?:{_EN_SOME}|anyone|anybody)\s+else'?s|(?:another|a\s+different|different|other)\s+"
    r"(?:person|user|customer|applicant|member|individual|people)(?:'?s|s')|(?:a\s+)?strangers?'?s?"
    rf"|{_EN_SOME}\s+elses)"
)
_EN_THING = (
    r"(?:account|profile|page|pages|my\s+pages|details|data|info|information|name|personnummer"
    r"|address|adress|salary|income|employer|phone|social\s+security|photo|picture|e-?mail|workplace|job|stuff|mobile)"
)
_EN_CHANGED = r"(?:changed|edited|modified|updated|altered|replaced|deleted)"
# Concept markers: another person, any form ("någon annan", "a random user", "en främling").
_SV_ANOTHER = (
    rf"\b(?:{_SV_OTHER}|(?:nagon|nan)\s+(?:helt\s+)?annan|nagons|nans|en\s+annans|(?:en\s+)?(?:helt\s+)?annan\s+{_SV_KIND}"
    rf"|(?:en\s+)?(?:helt\s+)?(?:frammande|okand|obekant)\s+{_SV_KIND}|fel\s+{_SV_KIND}|en\s+person\s+(?:som\s+)?jag\s+inte\s+(?:kanner|vet))\b"
)
_SV_WHOSE_ANY = (
    rf"\b(?:{_SV_OTHER}|nagons|nans|en\s+annans|(?:en\s+)?(?:okand|obekant)\s+{_SV_WHOSE}|en\s+(?:\w+\s+)?{_SV_WHOSE}"
    rf"|andras|andra\s+{_SV_WHOSE}|grannens|personens|kvinnans|mannens|killens|tjejens|damens|familjens)\b"
)
_SV_SEE = (
    r"\b(?:inloggad|inloggade|loggade\s+in|loggat\s+in|kom\s+in|kom\s+upp|kommer\s+upp|hamnade|hamnat|hamnar|visade|visades"
    r"|visas|visat|syntes|syns|stod|star|dok\s+upp|fick\s+upp|fick\s+se|sag|ser|sett|var\s+inne|oppnade|oppnades|se|visa|visar"
    r"|logga\s+in|kollade|tittade|tagit\s+del\s+av|tog\s+del\s+av|(?:fick|fatt|hade)\s+tillgang)\b"
)
_EN_PEOPLE = r"(?:person|user|customer|applicant|member|individual|man|woman|guy|lady|tenant|people|persons|users)"
_EN_ANOTHER = (
    rf"\b(?:{_EN_OTHER}|{_EN_SOME}(?:\s+else)?'?s?|som+e?\s?(?:one|body)s?\s+else'?s"
    rf"|(?:another|a\s+(?:completely\s+|totally\s+|entirely\s+)?different|different|a\s+random|random|an\s+unknown|unknown"
    rf"|some\s+random|other|wrong)\s+{_EN_PEOPLE}(?:'?s|s')?"
    rf"|(?:a\s+)?strangers?'?s?|a\s+person\s+(?:that\s+|who\s+)?i\s+(?:do\s+not|don'?t|did\s+not|didn'?t)\s+know)\b"
)
_EN_WHOSE_ANY = (
    rf"\b(?:{_EN_OTHER}|(?:{_EN_SOME}|anyone|anybody)(?:\s+else)?(?:'s|s)|som+e?\s?(?:one|body)s?\s+else'?s"
    rf"|(?:another|a\s+(?:completely\s+|totally\s+|entirely\s+)?different|a\s+random|random|an\s+unknown|unknown|some\s+random"
    rf"|other|wrong)\s+{_EN_PEOPLE}(?:'s|s'|s)"
    r"|(?:a\s+)?strangers?(?:'s|s'|s)|others'|neighbou?r'?s"
    r"|(?:an?|some)\s+(?:\w+\s+)?(?:man|woman|lady|guy|person|girl|boy|member|customer|user|tenant)'s)"
)
_EN_SEE = (
    r"\b(?:saw|see|seeing|seen|showed|shown|shows|showing|appeared|appears|came\s+up|popped\s+up|displayed|logged\s+in"
    r"|signed\s+in|landed|ended\s+up|got\s+into|was\s+in|opened|log\s*in|login|looked|viewed|view|accessed"
    r"|(?:gained|had|got)\s+access|presented\s+with)\b"
)
# The writer was on the site: a login, Mina sidor, a page or an account, somewhere in the message.
_ON_THE_SITE = (
    r"\b(?:logga\w*\s+(?:\w+\s+)?in|loggat\s+(?:\w+\s+)?in|inlogg\w*|mina\s+sidor|sida|sidan|sidor|profil\w*|konto\w*"
    r"|log(?:ged|ging|s)?\s+(?:\w+\s+)?in|login"
    r"|sign(?:ed|ing)?\s+in|my\s+pages|page|profile|account)\b"
)
# Personal data, as a message names it around a name it does not know.
_SV_PERSONAL = r"\b(?:uppgifter\w*|namn|personnummer|lon|inkomst|adress\w*|arbetsgivare|telefonnummer)\b"
_EN_PERSONAL = (
    r"\b(?:details|data|info|information|name|personnummer|personal\s+number|address|salary|income|employer|phone)\b"
)
# A stranger: a marker strong enough that a thing of the account in its sentence suffices.
_SV_STRANGER = (
    rf"\b(?:(?:en\s+)?(?:helt\s+)?(?:frammande|okand|obekant)\s+{_SV_KIND}|fel\s+{_SV_KIND}|(?:en\s+)?framlings?"
    rf"|en\s+{_SV_PEOPLE}\s+(?:som\s+)?jag\s+(?:inte|aldrig)\s+(?:kanner|vet\s+vem|har\s+hort\s+talas\s+om|hort\s+talas\s+om|har\s+traffat)"
    r"|(?:ett\s+)?(?:mans|kvinno|kill|tjej)namn)\b"
)
_EN_STRANGER = (
    rf"\b(?:(?:a\s+)?(?:complete\s+|total\s+)?strangers?|(?:an\s+)?unknown\s+{_EN_PEOPLE}|(?:the\s+)?wrong\s+{_EN_PEOPLE}"
    r"|(?:a|some)\s+(?:person|man|woman|guy|lady)\s+(?:that\s+|who\s+)?i(?:'ve)?\s+(?:do\s+not|don'?t|did\s+not|didn'?t|have\s+never|never)"
    r"\s+(?:know|heard\s+of|met|seen))\b"
)
# Strictly "was shown", for the rules whose other marker is weak (his, her).
_SV_SHOWN = r"\b(?:kom\s+upp|kommer\s+upp|visades|visas|visade|syntes|syns|stod|star|dok\s+upp|fick\s+upp|fick\s+se|sag|ser|sett)\b"
_EN_SHOWN = r"\b(?:saw|seen|show|showed|shown|shows|showing|appeared|came\s+up|popped\s+up|displayed|was\s+on\s+my|were\s+on\s+my)\b"
# "Not mine" said of a thing of the account, in either word order of Swedish.
_SV_NOT_MINE = (
    r"\b(?:(?:var|ar|verkar\s+vara)\s+(?:ju\s+|alls\s+)?inte(?:\s+heller)?|inte\s+(?:var|ar))\s+(?:mitt|min|mina)(?:\s+egna?)?\b"
    r"|\b(?:tillhorde|tillhor)\s+(?:ju\s+)?inte\s+mig\b|\binte\s+(?:tillhorde|tillhor)\s+mig\b"
)
_EN_NOT_MINE = (
    r"\b(?:(?:is|was|were|are)(?:\s+not|n'?t)|not)\s+(?:mine|my\s+own|his|hers|theirs)\b"
    r"|\b(?:did\s+not|didn'?t|does\s+not|doesn'?t|do\s+not|don'?t)\s+belong\s+to\s+me\b|\bnot\s+belonging\s+to\s+me\b"
)
# Sentences about a letter, an invoice or money are not about the web account.
_LETTER = r"\b(?:brev\w*|kuvert\w*|avi\w*|letter\w*|envelope\w*|post\s+(?:till|from)|mail\s+(?:till|from))\b"
# A call or a text message from a stranger is phishing, not the fault.
_PHISHING = r"\b(?:sms\w*|ringde|ringt|samtal\w*|call\w*|phon(?:ed|ing)|text\s+message|phishing|bluff\w*|scam\w*)\b"
# Words quoted to the writer (a text message, a mail): "your account" is someone else's voice.
_SECOND_PERSON = r"\b(?:ditt|din|dina|your)\s+(?:konto|account|uppgifter|details|profil|profile|sida|page)\b"
# A listing's contact or text is not an account; the writer's own typing mistake is not the fault.
_LISTING = r"\b(?:annons\w*|listing\w*|ad|advert\w*|objekt\w*)\b"
_OWN_MISTAKE = (
    r"\b(?:(?:jag|i)\s+(?:\w+\s+){0,2}?(?:skrev|skrivit|skrivit|typed|entered|mistyped)\s+(?:\w+\s+){0,3}?(?:fel|wrong)"
    r"|mistyp\w*|felskriv\w*|my\s+own\s+mistake|mitt\s+eget\s+fel)\b"
)
# A message about an invoice or a letter, or owning up to a typing mistake: its "not mine" is not the fault.
_PAPER_OR_OWN_MISTAKE = rf"\b(?:faktura\w*|invoice\w*|brev\w*|letter\w*|avi\w*|kuvert\w*|envelope\w*)\b|{_OWN_MISTAKE}"
# A new name of one's own (marriage, a change of name) is not another person's.
_OWN_NAME_CHANGE = (
    r"\b(?:gift|gifte|married|bytt\s+(?:efter)?namn|byta\s+(?:efter)?namn|changed\s+my\s+(?:last\s+|sur)?name|nytt\s+(?:efter)?namn"
    r"|new\s+(?:last\s+|sur)?name|gamla\s+namnet|old\s+name)\b"
)
# A relative or friend in the sentence: "his account" is theirs, shown with their leave.
_RELATIVE = (
    r"\b(?:min|mitt|mina|my|our|var)\s+(?:van|vanner|friend|friends|kompis|sambo|partner|man|fru|wife|husband|pappa|mamma|far|mor"
    r"|father|mother|dad|mum|mom|son|dotter|daughter|bror|syster|brother|sister|granne|neighbou?r|flatmate|roommate)\b"
)
# Adding another person to one's own account is a question of co-applicants, not the fault.
_COAPPLICANT = (
    r"\b(?:medsokand\w*|lagga\s+till|lagg\s+till|fullmakt\w*|ombud|co-?applicant\w*|add|adding|on\s+behalf)\b"
)
_SV_THING_RE = rf"\b{_SV_THING}\b"
_EN_THING_RE = rf"\b{_EN_THING}\b"
# "Fel konto" / "wrong account" in a sentence about money is a bank account.
_MONEY = (
    r"\b(?:betal\w*|bankgiro|plusgiro|\w*avgift\w*|faktura\w*|pengar\w*|swish\w*|overfor\w*|inbetal\w*"
    r"|paid|pay\w*|fee|fees|transfer\w*|refund\w*|invoice\w*|money|bank(?!-?id))\b"
)
