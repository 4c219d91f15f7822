"""The fault-report rule set: which wordings say "I landed in someone else's account".

Every pattern runs over a normalised text (see :func:`workbench.incident.classify.normalise`:
lower case, å/ä → a, ö → o); a ``cased`` rule runs over the text with its accents folded
but its capitals kept, to tell a name ("inloggad som Sofia Qvarnbäck") from a word. The rules fall
into families, each in Swedish and English:

- *phrases*: a wording of the fault itself ("någon annans sida", "logged in as someone else");
- *concepts*: a marker of another person ("someone's", "en främling", "a random user") and
  a thing of the account ("konto", "salary", "Mina sidor") in one sentence, or a thing of
  the account said not to be the writer's ("kontot var inte mitt", "did not belong to me");
- *names*: a name the writer disowns ("Jag heter inte Lars", "Vem är Anders Ytterlind?");
- *changes*: someone else changed the writer's data or was in the account.

What cancels a match (a negation before it, a question about what could happen, a money
or letter sentence) is decided in :mod:`workbench.incident.classify`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .fault_report_words import (
    _COAPPLICANT,
    _EN_ANOTHER,
    _EN_CHANGED,
    _EN_NOT_MINE,
    _EN_OTHER,
    _EN_PERSONAL,
    _EN_SEE,
    _EN_SHOWN,
    _EN_SOME,
    _EN_STRANGER,
    _EN_THING,
    _EN_THING_RE,
    _EN_WHOSE_ANY,
    _LETTER,
    _LISTING,
    _MONEY,
    _ON_THE_SITE,
    _OWN_NAME_CHANGE,
    _PAPER_OR_OWN_MISTAKE,
    _PHISHING,
    _RELATIVE,
    _SECOND_PERSON,
    _SV_ANOTHER,
    _SV_CHANGED,
    _SV_KIND,
    _SV_NOT_MINE,
    _SV_OTHER,
    _SV_PERSONAL,
    _SV_SEE,
    _SV_SHOWN,
    _SV_SOMEONE,
    _SV_STRANGER,
    _SV_THING,
    _SV_THING_RE,
    _SV_WHOSE_ANY,
)

__all__ = ["RULES", "Rule"]


@dataclass(frozen=True)
class Rule:
    """One phrase family: ``name`` as shown to the reader, the language, and the pattern.

    ``negatable`` rules are dropped when a negation precedes the match in its sentence or
    when the sentence is a question about what could happen ("Could another user see my
    data?"); ``blocked_by`` drops a match whose sentence also matches that pattern.
    ``cased`` patterns see capitals (accents still folded), for names. Each of ``along``
    must also match in the same sentence (the quote then spans them all), and each of
    ``context`` somewhere in the message; a message that matches ``unless`` is not
    looked at by the rule.
    """

    name: str
    lang: str
    pattern: str
    example: str
    negatable: bool = False
    blocked_by: str | None = None
    cased: bool = False
    along: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    unless: str | None = None

    def compiled(self) -> re.Pattern:
        return re.compile(self.pattern)


# One rule a line or two, as a table to read down: kept out of the formatter's hands.
# fmt: off
RULES: tuple[Rule, ...] = (
    Rule("sv: another person's account or data", "sv",
         rf"\b{_SV_OTHER}\s+(?:\S+\s+){{0,3}}?{_SV_THING}\b",
         "jag hamnade på någon annans sida", negatable=True, blocked_by=rf"{_MONEY}|{_LETTER}|{_LISTING}"),
    Rule("sv: wrong account", "sv", r"\bfel\s+(?:konto|kundkonto|profil|mina\s+sidor)\b",
         "jag blev inloggad på fel konto", negatable=True, blocked_by=_MONEY),
    Rule("sv: logged in as someone else", "sv",
         rf"\b(?:inloggad|(?:kom|loggade|loggat|logga)\s+in)\s+som\s+(?:en\s+(?:helt\s+)?annan|{_SV_SOMEONE}\s+(?:helt\s+)?annan|fel)\b",
         "jag var inloggad som en annan person"),
    Rule("sv: landed with someone else", "sv",
         rf"\b(?:hamnade|hamnar|kom|kommer)\s+(?:in\s+)?(?:pa|i|till|hos)\s+(?:en\s+annan|{_SV_SOMEONE}\s+annan)\b",
         "jag hamnade hos någon annan", negatable=True, blocked_by=rf"{_MONEY}|{_LETTER}"),
    Rule("sv: account that is not mine", "sv",
         rf"\b(?:konto\w*|sida|sidor|profil\w*|uppgifter\w*)\s+som\s+(?:inte\s+ar\s+mi(?:tt|n|na)|tillhor(?:de)?\s+"
         rf"(?:en\s+annan|{_SV_SOMEONE}))\b|\binte\s+(?:mitt|mina)\s+(?:konto|sida|sidor|uppgifter|profil|namn)\b",
         "ett konto som inte är mitt", blocked_by=rf"{_MONEY}|{_LETTER}", context=(_ON_THE_SITE,),
         unless=_PAPER_OR_OWN_MISTAKE),
    Rule("sv: belonged to another", "sv",
         rf"\btillhor(?:de|ande)?\s+(?:\S+\s+){{0,2}}?(?:en\s+annan|{_SV_SOMEONE}\s+annan|en\s+frammande)\b",
         "profilen tillhörde en annan person"),
    Rule("sv: shows another customer", "sv",
         rf"\b(?:visar|visade|visas|visades)\s+(?:en\s+)?(?:annan|fel|frammande)\s+{_SV_KIND}\b"
         rf"|\b(?:annan|fel|frammande)\s+{_SV_KIND}\s+(?:visas|visades|syns|syntes)\b",
         "Mina sidor visar en annan kund"),
    Rule("sv: details about another", "sv",
         rf"\b(?:\w*uppgifter(?:na)?|info|informationen|information)\s+(?:om|for|till)\s+(?:en\s+annan|{_SV_SOMEONE}\s+annan|en\s+frammande)\b",
         "sidan visade uppgifter om en annan person", negatable=True),
    Rule("sv: it is not me", "sv", r"\bdet\s+(?:ar|var)\s+(?:ju\s+|definitivt\s+|verkligen\s+|absolut\s+|helt\s+klart\s+)?inte\s+jag\b", "det stod att jag var X. Det är inte jag."),
    Rule("sv: it is not mine", "sv", r"\bdet\s+(?:ar|var)\s+(?:ju\s+|definitivt\s+|verkligen\s+|absolut\s+)?inte\s+(?:mitt|min|mina)\b",
         "På min sida står inkomst 412 000 kr. Det är inte min.", context=(_SV_PERSONAL, _ON_THE_SITE), blocked_by=rf"{_MONEY}|{_LETTER}",
         unless=_PAPER_OR_OWN_MISTAKE),
    Rule("sv: someone changed my data", "sv",
         rf"\b(?:{_SV_SOMEONE}(?:\s+annan)?|en\s+framling)\s+(?:har\s+|hade\s+)?(?:\S+\s+){{0,2}}?"
         rf"(?:{_SV_CHANGED}\s+(?:\S+\s+){{0,3}}?(?:min|mitt|mina)|varit\s+inne)\b",
         "någon har ändrat mitt telefonnummer", negatable=True, blocked_by=rf"{_SECOND_PERSON}|{_PHISHING}"),
    Rule("sv: changed by someone else", "sv",
         rf"\b{_SV_CHANGED}\s+av\s+(?:{_SV_SOMEONE}|en\s+annan|en\s+framling)\b",
         "mina uppgifter är ändrade av någon annan"),
    Rule("sv: changed, and not by me", "sv",
         r"\b(?:andrats|bytts|andrad|andrade|utbytt|utbytta|ersatt|ersatts)\b.{0,160}?\b(?:inte\s+kanner\s+igen|aldrig\s+sett|(?:har\s+)?inte\s+(?:jag\s+)?gjort\s+det"
         r"|det\s+har\s+inte\s+jag\s+gjort|det\s+var\s+inte\s+jag|(?:jag\s+)?har\s+(?:inte|aldrig)\s+(?:andrat|rort|gjort)"
         r"|inte\s+(?:andrat|rort)\s+(?:nagot|det))\b",
         "adressen har ändrats till något jag inte känner igen"),
    Rule("sv: other than mine", "sv",
         r"\b(?:ett\s+annat|en\s+annan|andra)\s+(?:\S+\s+){0,4}?an\s+(?:mitt|min|mina)\b",
         "på Mina sidor står ett annat namn än mitt", blocked_by=rf"{_MONEY}|{_LETTER}|{_OWN_NAME_CHANGE}", context=(_ON_THE_SITE,)),
    Rule("sv: a foreign value on my profile", "sv",
         r"\b(?:en\s+|ett\s+)?(?:annan|annat|okand|okant|frammande)\s+(?:arbetsgivare|adress|e-?postadress|telefonnummer|namn|inkomst|lon)"
         r"\s+(?:pa|i)\s+(?:min|mitt|mina)\s+(?:profil|konto|sida|sidor)\b",
         "nu står en annan arbetsgivare på min profil"),
    Rule("en: another person's account or data", "en",
         rf"\b{_EN_OTHER}\s+(?:\S+\s+){{0,3}}?{_EN_THING}\b",
         "I saw someone else's details", negatable=True, blocked_by=rf"{_MONEY}|{_LETTER}|{_LISTING}"),
    Rule("en: wrong account", "en",
         r"\bwrong\s+(?:account|profile|(?:user|person|customer|member)(?:'?s|s')?)\b",
         "I was put in the wrong account", negatable=True, blocked_by=_MONEY),
    Rule("en: logged in as someone else", "en",
         r"\b(?:(?:logged|signed)\s+(?:me\s+)?in|came\s+in|got\s+in)\s+as\s+(?:another|someone|somebody|a\s+(?:completely\s+|totally\s+|entirely\s+)?different"
         r"|a\s+stranger)\b",
         "I was logged in as another person"),
    Rule("en: account that is not mine", "en",
         r"\bnot\s+my\s+(?:account|profile|page|data|details|info|information|name|salary|address)\b|\b(?:was|is)(?:\s+not|n'?t)\s+mine\b(?!\s+(?:any\s*more|no\s+more))",
         "the account was not mine", blocked_by=rf"{_MONEY}|{_LETTER}", context=(_ON_THE_SITE,),
         unless=_PAPER_OR_OWN_MISTAKE),
    Rule("en: details of another", "en",
         r"\b(?:details|data|profile|page|pages|account|information|info|name)\s+of\s+(?:someone|somebody|another|a\s+different|a\s+stranger"
         r"|(?:an?\s+)?other\s+(?:person|man|woman|user|member|customer)|(?:a|an|some)\s+(?:\w+\s+)?(?:man|woman|lady|guy|person|stranger|girl|boy)\b)",
         "it showed the details of somebody else", negatable=True),
    Rule("en: instead of mine", "en", r"\binstead\s+of\s+(?:mine|my\s+own)\b", "the name X instead of mine"),
    Rule("en: it was not me", "en",
         r"\b(?:that'?s|thats|it'?s|its|it\s+is|that\s+is)\s+not\s+me\b|\bit\s+was(?:\s+not|n'?t)\s+me\b",
         "it said I was X?? that's not me"),
    Rule("en: someone changed my data", "en",
         rf"\b(?:{_EN_SOME}|anyone|anybody)(?:\s+else|\s+other\s+than\s+me)?\s+(?:has\s+|had\s+|must\s+have\s+)?"
         rf"(?:{_EN_CHANGED}\s+(?:\S+\s+){{0,3}}?my|been\s+(?:in|into|inside))\b"
         rf"|\bdid\s+(?:{_EN_SOME}|anyone|anybody)(?:\s+else)?\s+(?:change|edit|modify|update|alter)\s+(?:\S+\s+){{0,2}}?my\b",
         "someone changed my phone number", negatable=True, blocked_by=rf"{_SECOND_PERSON}|{_PHISHING}"),
    Rule("en: changed by someone else", "en",
         rf"\b{_EN_CHANGED}\s+by\s+(?:{_EN_SOME}|another|a\s+stranger|a\s+different|someone\s+else)\b",
         "my details were changed by somebody else", negatable=True, blocked_by=rf"{_SECOND_PERSON}|{_PHISHING}"),
    Rule("en: it was someone else's", "en",
         rf"\b(?:was|were|is|are)\s+(?:{_EN_SOME}|anyone|anybody)\s+else'?s\b",
         "the profile page was someone else's"),
    Rule("en: different than mine", "en", r"\bdifferent\s+(?:\S+\s+){0,4}?(?:than|from)\s+mine\b",
         "a different name than mine", blocked_by=rf"{_MONEY}|{_LETTER}"),
    Rule("en: changed, and not by me", "en",
         r"\b(?:changed|edited|updated|modified|replaced)\b.{0,160}?\b(?:i\s+did\s+not\s+do\s+(?:it|that|this)"
         r"|i\s+didn'?t\s+do\s+(?:it|that|this)|it\s+was(?:n'?t|\s+not)\s+me|not\s+by\s+me"
         r"|i\s+(?:\w+\s+)?(?:didn'?t|did\s+not|never|haven'?t|have\s+not)\s+(?:touch|change|edit)\w*)\b",
         "my employer was changed and I did not do it"),
    Rule("en: data of a person I do not know", "en",
         r"\b(?:data|details|information|info|name|account|profile|page)\s+(?:of|about|for|belonging\s+to)\s+(?:a|an|some)\s+"
         r"(?:person|woman|man|people|customer|user)\s+(?:that\s+|who\s+|whom\s+)?i\s+(?:do\s+not|don'?t|did\s+not|didn'?t"
         r"|i'?ve\s+never|have\s+never|never)\s+(?:know|heard\s+of|met|seen|recogni[sz]e)\b",
         "name and address of a person I don't know"),
    Rule("en: belonged to another", "en",
         rf"\bbelong(?:s|ed|ing)?\s+to\s+(?:another|{_EN_SOME}(?:\s+else)?|a\s+different|a\s+stranger)\b",
         "the page belonged to a different customer"),
    Rule("en: a foreign value on my profile", "en",
         r"\b(?:a|an)\s+(?:different|unknown|strange)\s+(?:employer|address|e-?mail(?:\s+address)?|phone(?:\s+number)?|name)"
         r"\s+(?:on|in)\s+my\s+(?:profile|account|page)\b",
         "there is a different address on my profile"),

    # Concepts: another person and a thing of the account in one sentence, in any order.
    Rule("sv: another person's data, in one sentence", "sv", _SV_WHOSE_ANY,
         "uppgifterna som kom upp på skärmen var tydligen någon annans", negatable=True, along=(_SV_THING_RE,),
         blocked_by=rf"{_MONEY}|{_LETTER}|{_LISTING}"),
    Rule("sv: another person in my account", "sv", _SV_ANOTHER,
         "en annan människa var inloggad på mitt konto", negatable=True, along=(_SV_THING_RE, _SV_SEE),
         blocked_by=rf"{_MONEY}|{_COAPPLICANT}|{_SECOND_PERSON}|{_PHISHING}"),
    Rule("sv: a stranger in my account", "sv", _SV_STRANGER, "det var fel person på min sida", negatable=True,
         along=(_SV_THING_RE,), blocked_by=rf"{_MONEY}|{_COAPPLICANT}|{_LETTER}|{_PHISHING}"),
    Rule("sv: a thing of the account, not mine", "sv", rf"\b{_SV_THING}\b",
         "kontot jag kom in på var inte mitt", along=(_SV_NOT_MINE,),
         blocked_by=rf"{_MONEY}|{_LETTER}", context=(rf"{_ON_THE_SITE}|{_SV_SHOWN}",), unless=_PAPER_OR_OWN_MISTAKE),
    Rule("sv: his or her data came up", "sv",
         r"\b(?:hans|hennes)\s+(?:namn|uppgifter|personnummer|lon|inkomst|adress|arbetsgivare|telefonnummer|konto|sida|profil)\b",
         "hennes lön och adress kom upp", negatable=True, along=(_SV_SHOWN,),
         blocked_by=rf"{_MONEY}|{_COAPPLICANT}|{_RELATIVE}"),
    Rule("en: another person's data, in one sentence", "en", _EN_WHOSE_ANY,
         "the page I landed on was a random user's", negatable=True, along=(_EN_THING_RE,),
         blocked_by=rf"{_MONEY}|{_LETTER}|{_LISTING}"),
    Rule("en: another person in my account", "en", _EN_ANOTHER,
         "there was a stranger logged in on my profile", negatable=True, along=(_EN_THING_RE, _EN_SEE),
         blocked_by=rf"{_MONEY}|{_COAPPLICANT}|{_SECOND_PERSON}|{_PHISHING}"),
    Rule("en: a stranger in my account", "en", _EN_STRANGER, "my page was full of a stranger's info", negatable=True,
         along=(_EN_THING_RE,), blocked_by=rf"{_MONEY}|{_COAPPLICANT}|{_LETTER}|{_PHISHING}"),
    Rule("en: a name's data came up", "en", r"\b[A-Z][a-z]+'s\s+(?:name|details|data|info|information|salary|income|address"
         r"|employer|phone|personal\s+number|personnummer|account|page|profile)\b", "I saw Ahmed's salary on my page",
         cased=True, negatable=True, along=(rf"(?i){_EN_SEE}",), blocked_by=rf"(?i){_MONEY}|{_COAPPLICANT}"),
    Rule("en: a thing of the account, not mine", "en", rf"\b{_EN_THING}\b",
         "the account I entered did not belong to me", along=(_EN_NOT_MINE,),
         blocked_by=rf"{_MONEY}|{_LETTER}", context=(rf"{_ON_THE_SITE}|{_EN_SHOWN}",), unless=_PAPER_OR_OWN_MISTAKE),
    Rule("en: his or her data came up", "en",
         r"\b(?:his|her)\s+(?:name|details|data|info|information|salary|income|address|adress|employer|phone|personal\s+number"
         r"|account|page|profile)\b",
         "her salary and address came up", negatable=True, along=(_EN_SHOWN,),
         blocked_by=rf"{_MONEY}|{_COAPPLICANT}|{_RELATIVE}"),
    # Several values of the account, each another ("annan namn, annan adress", "a different name and a different address").
    Rule("sv: one foreign value after another", "sv",
         r"\b(?:en\s+|ett\s+)?(?:annan|annat)\s+(?:namn|personnummer|adress|lon|inkomst|arbetsgivare|telefonnummer)\b[^.!?\n]{0,40}?"
         r"\b(?:en\s+|ett\s+)?(?:annan|annat)\s+(?:namn|personnummer|adress|lon|inkomst|arbetsgivare|telefonnummer)\b",
         "Jag loggar in och det står annan namn, annan personnummer och annan adress.", context=(_ON_THE_SITE,),
         blocked_by=rf"{_MONEY}|{_LETTER}|{_OWN_NAME_CHANGE}"),
    Rule("en: one foreign value after another", "en",
         r"\b(?:a\s+|an\s+)?(?:different|another|other|strange|unknown)\s+(?:name|personal\s+number|address|salary|income|employer|phone)\b"
         r"[^.!?\n]{0,40}?\b(?:a\s+|an\s+)?(?:different|another|other|strange|unknown)\s+(?:name|personal\s+number|address|salary"
         r"|income|employer|phone)\b",
         "a different name and a different address on my page", context=(_ON_THE_SITE,),
         blocked_by=rf"{_MONEY}|{_LETTER}|{_OWN_NAME_CHANGE}"),
    Rule("sv: a wholly different name came up", "sv", r"\b(?:ett\s+)?helt\s+annat\s+namn\b", "det stod ett helt annat namn när hon loggade in",
         negatable=True, along=(_SV_SHOWN,), context=(_ON_THE_SITE,), blocked_by=rf"{_MONEY}|{_LETTER}|{_OWN_NAME_CHANGE}"),
    Rule("en: a wholly different name came up", "en", r"\b(?:a\s+)?(?:completely|totally|entirely)\s+different\s+name\b",
         "a completely different name showed up when I logged in", negatable=True, along=(_EN_SHOWN,), context=(_ON_THE_SITE,),
         blocked_by=rf"{_MONEY}|{_LETTER}|{_OWN_NAME_CHANGE}"),
    # Names: the writer disowns a name the page gave them.
    Rule("sv: that is not my name", "sv", r"\bjag\s+heter\s+(?:ju\s+)?(?:inte|inte\s+alls)\s+\w+", "Det stod Lars på Mina sidor. Jag heter inte Lars.",
         context=(_ON_THE_SITE,)),
    Rule("en: that is not my name", "en", r"\b[Mm]y\s+name\s+(?:is\s+not|isn'?t)\s+[A-Z][a-z]+\b", "My page says Peter. My name isn't Peter.",
         cased=True, context=(_ON_THE_SITE,)),
    Rule("sv: who is this person", "sv", r"\b[Vv]em\s+(?:ar|var)\s+(?:denna\s+person|den\s+har\s+personen|den\s+har|det\s+har|detta)\b|\b[Vv]em\s+(?:ar|var)\s+[A-Z][a-z]+\s+[A-Z][a-z]+\b",
         "Vem är Anders Ytterlind? Hans uppgifter kom upp.", cased=True, context=(_SV_PERSONAL,)),
    Rule("en: who is this person", "en", r"\b[Ww]ho\s+(?:is|was)\s+(?:this|that)(?:\s+(?:person|man|woman|guy|lady))?\s*\?|\b[Ww]ho\s+(?:is|was)\s+[A-Z][a-z]+\s+[A-Z][a-z]+\b",
         "Who is Karin Qvarnbäck? Her salary is on my page.", cased=True, context=(_EN_PERSONAL,)),
    Rule("any: the page's name, disowned", "any",
         r"\b(?:[Vv]alkommen|[Ww]elcome|greeted\s+(?:me|him|her)\s+(?:as|with)|called\s+me|inloggad\s+som|logged\s+in\s+as|st(?:od|ar)\s+det"
         r"|(?:it\s+)?(?:says|said)|name\s+(?:is|was)|namnet\s+(?:ar|var))\s+'?([A-Z][a-z]+)\b"
         r"(?s:.{0,300}?)\b(?:(?:[Jj]ag\s+heter|[Mm]y\s+name\s+is|I'?m|I\s+am)\s+(?!\1\b)[A-Z][a-z]+"
         r"|(?:I'?m|I\s+am|[Jj]ag\s+ar|[Jj]ag\s+heter)\s+(?:not|inte)\s+\1)\b",
         "Det stod Välkommen Erik på Mina sidor. Jag heter Maria.", cased=True, context=(_ON_THE_SITE,)),
    Rule("any: a name seen, then disowned", "any",
         r"\b([A-Z][a-z]+)\b(?s:.{0,300}?)\b(?:[Jj]ag\s+(?:ar|heter)\s+(?:ju\s+)?inte|I'?m\s+not|I\s+am\s+not|[Mm]y\s+name\s+is\s+not"
         r"|[Mm]y\s+name\s+isn'?t)\s+\1\b",
         "jag loggar in och ser namn Anders Ytterlind. Jag är inte Anders.", cased=True, context=(_ON_THE_SITE,)),
    Rule("sv: a certain someone", "sv", r"\b[Ee]n\s+viss\s+[A-Z][a-z]+\b", "tack vare Mina sidor vet jag vad en viss Göran tjänar", cased=True,
         negatable=True, along=(rf"(?:{_SV_THING_RE}|\b(?:tjanar|jobbar|arbetar|bor)\b)",), context=(_ON_THE_SITE,)),
    Rule("any: some stranger by name", "any", r"\b(?:[Nn]an|[Nn]agon|[Ss]ome)\s+[A-Z][a-z]+\b",
         "på sidan stod nån Hassan och hans siffror", cased=True, negatable=True,
         along=(rf"(?:{_SV_THING_RE}|{_EN_THING_RE})", rf"(?:{_SV_SEE}|{_EN_SEE})")),
    # Symptoms: a detail on the writer's page that was never theirs.
    Rule("sv: a detail that was never mine", "sv",
         r"\b(?:har\s+)?aldrig\s+(?:jobbat|arbetat|bott|haft|tjanat|varit\s+anstalld)\b|\bsedan\s+nar\s+(?:har|ar|jobbar|bor|tjanar)\s+jag\b",
         "på Mina sidor står arbetsgivare ett byggbolag, jag har aldrig jobbat där", context=(_SV_PERSONAL, _ON_THE_SITE),
         blocked_by=rf"{_MONEY}|{_LETTER}"),
    Rule("en: a detail that was never mine", "en",
         r"\bi(?:'ve|\s+have)?\s+never\s+(?:worked|lived|had|earned|been\s+employed)\b|\bsince\s+when\s+(?:do|have|am|did)\s+i\b",
         "my profile listed an employer I have never worked for", context=(_EN_PERSONAL, _ON_THE_SITE),
         blocked_by=rf"{_MONEY}|{_LETTER}"),
    Rule("any: details I never entered", "any",
         r"\b(?:(?:none\s+of\s+(?:this|it|that)|this|it|that)\s+was\s+(?:not\s+|never\s+)?entered\s+by\s+me"
         r"|i\s+(?:never|didn'?t|did\s+not|have\s+not|haven'?t)\s+(?:entered|enter|typed|put\s+in)"
         r"|jag\s+har\s+(?:inte|aldrig)\s+(?:skrivit\s+in|angett|lagt\s+in|fyllt\s+i))\b",
         "My page says I work at a telecom company. None of this was entered by me.",
         context=(rf"{_SV_PERSONAL}|{_EN_PERSONAL}|\b(?:work|live|earn|jobbar|bor|tjanar)\b", _ON_THE_SITE),
         blocked_by=rf"{_MONEY}|{_LETTER}", unless=_PAPER_OR_OWN_MISTAKE),
    # Someone else landed in the writer's account, from their own.
    Rule("sv: my data came up in someone's own account", "sv",
         r"\b(?:sitt|sin|sina)\s+(?:eget|egen|egna)\s+(?:konto|sida|profil|mina\s+sidor)\b",
         "hon loggade in på sitt eget konto men det var mitt namn som kom upp",
         along=(r"\b(?:mitt|min|mina)\s+(?:namn|uppgifter|konto|sida|adress|lon|inkomst|arbetsgivare|personnummer|\w*nummer)\b", _SV_SEE)),
    Rule("en: my data came up in someone's own account", "en",
         r"\b(?:his|her|their)\s+own\s+(?:account|page|profile)\b",
         "she logged in to her own account and saw my name",
         along=(r"\bmy\s+(?:name|details|data|account|page|profile|address|salary|income|employer|phone|number)\b", _EN_SEE)),
    Rule("sv: who has been in my account", "sv",
         r"\bvem\s+(?:har|hade)\s+(?:varit\s+inne|loggat\s+in|andrat\s+(?:min|mitt|mina))\b", "Vem har varit inne och pillat?"),
    Rule("en: who has been in my account", "en",
         r"\bwho\s+(?:has\s+|had\s+)?(?:been\s+in(?:to|side)?\s+my|changed\s+my|edited\s+my|logged\s+in(?:to)?\s+(?:as\s+me|my))\b",
         "who changed my details?"),
    Rule("sv: whose account is this", "sv", r"\bvems\s+(?:konto|sida|profil|uppgifter)\s+(?:ar|var)\s+(?:det|detta)\b",
         "Vems konto är det här?"),
    Rule("en: whose account is this", "en",
         r"\bwhose\s+(?:account|page|profile|data|details|info|information)\s+(?:is|was)\s+(?:this|that|it)\b",
         "Whose account is this?"),
    Rule("any: someone else ended up in my account", "any",
         r"\b(?:han|hon|hen|de|dom|he|she|they|(?:min|mitt|my)\s+\w+(?:\s+[A-Z]\w+)?)\s+(?:\S+\s+){0,3}?"
         r"(?:hamnade|kom\s+in|landade|ended\s+up|landed|got)\s+(?:in|on|into|i|pa)\s+(?:mitt|min|mina|my)\s+"
         r"(?:konto|sida|sidor|profil|account|page|pages|profile)\b",
         "she ended up in my account", negatable=True),
    Rule("sv: logged in under a name", "sv", r"\b(?:inloggad|inloggade|loggad)\s+som\s+[A-Z][a-z]+\b", "Varför är jag inloggad som Sofia Qvarnbäck?",
         cased=True),
    Rule("en: logged in under a name", "en", r"\b(?:logged|signed)\s+in\s+as\s+[A-Z][a-z]+\b", "Why am I logged in as Sofia Qvarnbäck?",
         cased=True),
    # Changes: someone else was in the account or changed the writer's data.
    Rule("sv: someone has been in my account", "sv",
         rf"\b(?:{_SV_SOMEONE}(?:\s+annan)?|en\s+framling|en\s+obehorig)\s+(?:har|hade)\s+[^.!?\n]{{0,40}}?\b(?:{_SV_CHANGED}\s+(?:\S+\s+){{0,2}}?"
         r"(?:min|mitt|mina)|(?:loggat\s+in|varit\s+inne|gatt\s+in)\s+(?:som\s+mig|(?:pa|i)\s+(?:min|mitt|mina)))\b"
         rf"|\b(?:{_SV_SOMEONE}(?:\s+annan)?|en\s+framling)\s+(?:\S+\s+){{0,2}}?(?:loggade|loggat)\s+in\s+(?:som\s+mig|pa\s+mitt|i\s+mitt)\b",
         "någon annan har tydligen loggat in som mig", negatable=True, blocked_by=rf"{_SECOND_PERSON}|{_PHISHING}"),
    Rule("en: someone has been in my account", "en",
         rf"\b(?:{_EN_SOME}|a\s+stranger)(?:\s+else)?\s+(?:has|had|must\s+have|have)\s+(?:been\s+)?[^.!?\n]{{0,30}}?"
         r"\b(?:chang|edit|modif|updat|alter|replac|delet)(?:ed|ing)\s+(?:\S+\s+){0,2}?my\b"
         rf"|\b(?:{_EN_SOME}|a\s+stranger)(?:\s+else)?\s+(?:has\s+|had\s+)?(?:logged|signed)\s+in(?:to)?\s+(?:as\s+me|to\s+my|my)\b"
         rf"|\b(?:{_EN_SOME}|a\s+stranger)(?:\s+else)?\s+(?:has|had)\s+(?:been\s+in(?:to|side)?|accessed)\s+my\b",
         "somebody has been changing my profile", negatable=True, blocked_by=rf"{_SECOND_PERSON}|{_PHISHING}"),
)
# fmt: on
