"""Training-only messages for the fault-report model: reports told only by an effect, and their near misses.

The generator's own templates (:mod:`.message_texts`) mostly say outright that the writer
saw someone else's account. Writers of the fresh rounds more often tell only what they saw
change: a household, an e-mail address, applications, a co-applicant or a queue time that
is not theirs, a thing they never did. Their near misses are questions about one's own
settings ("how do I change my employer?", "is it normal that I am logged out?") and changes
the writer made. These templates teach the model that pairing ("a thing of the account" and
"not mine / never did / do not recognise"); they are never planted in a generated case, so
the cases and their truth are untouched. Written for model version 3, after reading the
misses of rounds 9 and 10 (so cross-validation on those two rounds is optimistic; rounds 11
and 12 were the honest test). :data:`WORRY_NEAR_MISSES` and :data:`WRAPPERS` were written for
model version 4, after reading the false positives and misses of cross-validation over rounds
1 to 12 (rounds 13 and 14 are its honest test). Invented names and figures only.

``{thing}`` is filled with an account item, ``{other}`` with an invented name, ``{place}``
with an invented place, ``{n}`` with a small number; ``{q}`` with a closing question.
"""

from __future__ import annotations

__all__ = [
    "CLOSINGS",
    "EFFECT_NEAR_MISSES",
    "EFFECT_REPORTS",
    "OTHERS",
    "PLACES",
    "SMS_SV",
    "THINGS",
    "WORRY_NEAR_MISSES",
    "WRAPPERS",
]

THINGS = {
    "sv": (
        "min lön",
        "min inkomst",
        "min arbetsgivare",
        "mitt telefonnummer",
        "min e-postadress",
        "min adress",
        "min kötid",
        "mitt hushåll",
        "min medsökande",
        "mina intresseanmälningar",
        "mina ansökningar",
        "mitt namn",
        "mitt personnummer",
    ),
    "en": (
        "my salary",
        "my income",
        "my employer",
        "my phone number",
        "my e-mail address",
        "my address",
        "my queue time",
        "my household",
        "my co-applicant",
        "my applications",
        "my registered interests",
        "the name at the top",
        "my date of birth",
    ),
}
OTHERS = ("Gunnel Rask", "Idris Mahmoud", "Viveka Strandberg", "Tuomas Kallio", "Ebba Lindgård", "Rasmus Hedh")
PLACES = ("Kiruna", "Borås", "Skärholmen", "Hässelby", "Gävle", "Täby")
CLOSINGS = {
    "sv": ("Vad har hänt?", "Är det normalt?", "Kan ni kolla?", "Hur kan det bli så?", "", "Vem har ändrat?"),
    "en": ("What happened?", "Is that normal?", "Can you check?", "How is that possible?", "", "Who changed it?"),
}

EFFECT_REPORTS = {
    "sv": (
        "På Mina sidor står {thing} som något jag aldrig sett förut. Jag har inte ändrat något. {q}",
        "{thing} är plötsligt fel, det är inte min. Jag har inte rört den. {q}",
        "Varför står det att jag bor i {place}? Jag har aldrig bott där. {q}",
        "Det står att mitt hushåll är {n} vuxna och {n} barn. Jag bor ensam och har inga barn. {q}",
        "Jag har fått mejl om {n} ansökningar som jag aldrig har gjort. På Mina sidor ligger de också. {q}",
        "E-postadressen på mitt konto är en adress jag inte känner igen. Jag har inte bytt den. {q}",
        "Min medsökande står som {other}. Jag känner ingen med det namnet. {q}",
        "Kötiden på mitt konto är från ett helt annat år än när jag registrerade mig. {q}",
        "Lönen som står är inte min och arbetsgivaren har jag aldrig jobbat hos. {q}",
        "Någon har dragit tillbaka mina intresseanmälningar. Det var inte jag. {q}",
        "Telefonnumret på Mina sidor är inte mitt, jag har aldrig haft det numret. {q}",
        "Högst upp på sidan står {other}, inte jag. {q}",
        "Jag får inte längre era utskick och nu ser jag att det står en annan e-post på kontot. {q}",
        "Mina sidor säger att jag söker i {place}, men jag har bara sökt i min stadsdel. Ansökningarna är inte mina. {q}",
        "Sedan i helgen står {thing} annorlunda och ingen i min familj har loggat in. {q}",
        "Jag känner inte igen uppgifterna på mitt konto: annan adress, annan lön, ett barn jag inte har. {q}",
        "Någon har lagt till en medsökande på mitt konto, {other}. Jag har aldrig haft någon medsökande. {q}",
        "Det ser ut som att någon annan har ändrat {thing}. Inte jag i alla fall. {q}",
        "Min mamma ringde mig: på hennes sida står en annan adress och ett telefonnummer hon inte har. {q}",
        "Jag hjälper min pappa med hans konto. Där står plötsligt en arbetsgivare han aldrig haft. {q}",
        "Först en fråga om hyran: när kommer avierna? Sen en sak till: {thing} har ändrats och det har inte jag gjort. {q}",
        "Kontot visar {n} nya ansökningar i {place} som jag inte känner till. {q}",
    ),
    "en": (
        "My pages shows {thing} as something I have never seen before. I did not change anything. {q}",
        "{thing} is suddenly wrong, it is not mine. I never touched it. {q}",
        "Why does it say I live in {place}? I have never lived there. {q}",
        "My household now says {n} adults and {n} children. I live alone and have no kids. {q}",
        "I got e-mails about {n} applications I never made, and they are listed on My pages too. {q}",
        "The e-mail address on my account is one I do not recognise. I never changed it. {q}",
        "My co-applicant is listed as {other}. I do not know anyone by that name. {q}",
        "The queue time on my account starts years before I even registered. {q}",
        "The salary shown is not mine and I have never worked for that employer. {q}",
        "Someone withdrew my applications. It was not me. {q}",
        "The phone number on my profile is not mine, I have never had that number. {q}",
        "The page greets me as {other}, which is not me. {q}",
        "I stopped getting your e-mails and now I see a different address on my account. {q}",
        "My pages says I applied for flats in {place}, but I only ever apply near home. Those applications are not mine. {q}",
        "Since the weekend {thing} looks different and nobody in my family has logged in. {q}",
        "I do not recognise the details on my account: another address, another salary, a child I do not have. {q}",
        "Somebody added a co-applicant to my account, {other}. I have never had a co-applicant. {q}",
        "It looks like someone else changed {thing}. It certainly was not me. {q}",
        "My mum called me: her page shows an address and a phone number that are not hers. {q}",
        "I help my dad with his account. It suddenly lists an employer he has never had. {q}",
        "First a question about parking: is there a waiting list? And another thing: {thing} has changed and I did not do it. {q}",
        "The account shows {n} new applications in {place} that I know nothing about. {q}",
    ),
}
"""Reports of the fault told only by an effect on the writer's own account (label 1)."""

EFFECT_NEAR_MISSES = {
    "sv": (
        "Hur ändrar jag {thing} på Mina sidor? Jag har bytt jobb.",
        "Är det normalt att Mina sidor loggar ut mig efter en stund? Lite irriterande.",
        "Jag ändrade {thing} själv igår. Behöver ni något intyg från mig?",
        "Kan jag lägga till en medsökande? Min sambo flyttar in.",
        "Jag har bytt e-postadress, hur uppdaterar jag den hos er?",
        "Hur räknas kötiden om jag varit utomlands ett år?",
        "Var ser jag mina ansökningar? Jag hittar dem inte i appen.",
        "Jag vill ta bort en intresseanmälan i {place}, hur gör jag?",
        "Min lön har höjts, ska jag uppdatera inkomsten själv?",
        "Mitt hushåll har blivit större, vi har fått barn. Var ändrar jag det?",
        "Jag har fått ett brev till {other} hit. Hon bor inte här. Ska jag skicka tillbaka det?",
        "Det står rätt uppgifter på mitt konto, jag vill bara dubbelkolla att allt är i ordning.",
        "Jag har glömt vilken e-post jag registrerade mig med. Kan ni hjälpa mig?",
        "Varför syns inte min nya adress än? Jag ändrade den för en vecka sedan.",
        "Min pappa vill ha hjälp att söka lägenhet i {place}. Får jag logga in åt honom?",
        "Hur länge sparas mina uppgifter om jag avslutar kontot?",
        "Jag fick ett sms om att mitt konto skulle spärras. Är det från er? Jag har inte klickat.",
    ),
    "en": (
        "How do I change {thing} on My pages? I have a new job.",
        "Is it normal that My pages logs me out after twenty minutes? Quite annoying.",
        "I changed {thing} myself yesterday. Do you need any proof from me?",
        "Can I add a co-applicant? My partner is moving in.",
        "I have a new e-mail address, how do I update it with you?",
        "How is queue time counted if I lived abroad for a year?",
        "Where do I see my applications? I cannot find them in the app.",
        "I want to withdraw an application in {place}, how do I do that?",
        "My salary went up, should I update my income myself?",
        "Our household has grown, we had a baby. Where do I change that?",
        "A letter for {other} arrived here. She does not live here. Should I send it back?",
        "Everything on my account is correct, I just want to double-check that all is in order.",
        "I forgot which e-mail I registered with. Can you help me?",
        "Why does my new address not show yet? I changed it a week ago.",
        "My dad wants help applying for a flat in {place}. May I log in for him?",
        "How long do you keep my data if I close the account?",
        "I got a text saying my account would be blocked. Is it from you? I did not click the link.",
    ),
}
"""Questions about one's own settings, changes the writer made, and other near misses (label 0)."""

WORRY_NEAR_MISSES = {
    "sv": (
        # checked and saw only their own data, want it confirmed
        "Efter nyheterna om felet loggade jag in. Där stod mitt eget namn och {thing}, allt stämde. "
        "Kan ni ändå bekräfta att ingen annan har sett mitt konto?",
        "Jag har inte sett någon annans uppgifter, men kan {thing} ha visats för någon annan?",
        "Mitt konto ser normalt ut för mig. Var det ett av dem som drabbades av felet i helgen?",
        "Allt på Mina sidor är mitt, inget konstigt. Jag vill bara veta om mina uppgifter läckt.",
        # logging in and blank pages
        "Jag kommer inte in, det står fel lösenord fast jag har bytt det två gånger.",
        "Sidan är helt tom när jag loggar in, inga uppgifter syns alls.",
        "Jag hamnar på startsidan igen varje gång jag loggat in. Vad gör jag för fel?",
        "kmr int in pa kontot, sidan laddar bara o laddar. hjalp",
        # formal requests
        "Med stöd av dataskyddsförordningen begär jag ett registerutdrag över alla uppgifter ni har om mig, "
        "med ändringshistorik. Skicka det per post.",
        "Jag företräder en medlem i er kö och begär på hans vägnar ett utdrag av de personuppgifter ni behandlar om honom.",
        # acting for someone, with their consent, or a shared computer
        "Min mormor har gett mig sitt lösenord så att jag kan söka åt henne. Är det tillåtet?",
        "Min sambo glömde logga ut på vår gemensamma dator. Jag stängde hennes sida direkt. Behöver jag göra något mer?",
        "Min bror har gått bort. Hur avslutar jag hans köplats? Jag har hans inloggning.",
        "Kan jag se min dotters kötid från mitt eget konto?",
        "Jag och min man har samma e-postadress. Blir det problem när vi båda står i kö?",
        # security worries, phishing, phone calls
        "Jag fick ett sms med en länk som påstås vara från er och ber mig logga in med BankID. "
        "Är det bedrägeri? Jag har inte klickat.",
        "BankID ville att jag skulle legitimera mig mot er fast jag inte hade börjat logga in. Jag avbröt. Ska jag oroa mig?",
        "En man ringde och sa att han var från er och bad om mitt personnummer och lösenord. Var det ni?",
        # their own data, old or as they set it
        "Det står fortfarande min gamla lön från när jag jobbade deltid. Hur uppdaterar jag den?",
        "Varför står mitt första förnamn högst upp? Jag använder mitt andra namn. Kan man ändra tilltalsnamn?",
        "Jag bytte {thing} i går men bekräftelsemejlet kom först i dag. Gick ändringen igenom?",
        "Jag ändrade inkomsten själv i lördags men det gamla beloppet syns fortfarande. Måste jag göra om det?",
        # letters with another name
        "Avin kom till min adress men med en annan persons namn på. Ska jag betala den?",
        "Vi fick ett brev från er adresserat till den som bodde här före oss.",
    ),
    "en": (
        "After the news about the fault I logged in. It showed my own name and {thing}, all correct. "
        "Can you still confirm nobody else saw my account?",
        "I have not seen anyone else's details, but could {thing} have been shown to someone else?",
        "My account looks normal to me. Was it one of those affected at the weekend?",
        "Everything on My pages is mine, nothing odd. I only want to know whether my data leaked.",
        "I cannot log in, it says wrong password even though I have reset it twice.",
        "The page is completely blank after I log in, none of my details show.",
        "Every time I log in I end up on the start page again. What am I doing wrong?",
        "cant get into my account, page just keeps loading. help",
        "Under the GDPR I request a copy of all personal data you hold about me, including the history of changes.",
        "I act for a member of your queue and request on his behalf an extract of the personal data you process about him.",
        "My grandmother gave me her password so that I can apply for her. Is that allowed?",
        "My flatmate forgot to log out on our shared laptop. I closed her page at once. Do I need to do anything else?",
        "My brother has passed away. How do I close his queue account? I have his login.",
        "Can I see my daughter's queue time from my own account?",
        "My husband and I share one e-mail address. Is that a problem when we are both in the queue?",
        "I got a text with a link, supposedly from you, asking me to log in with BankID. Is it a scam? I have not clicked.",
        "My BankID app asked me to identify myself to your site although I had not started a login. "
        "I cancelled. Should I worry?",
        "A man phoned saying he was from your office and asked for my personal number and password. Was that you?",
        "It still shows my old salary from when I worked part time. How do I update it?",
        "Why does the greeting use my first given name? I go by my middle name. Can I change it?",
        "I changed {thing} yesterday but the confirmation e-mail only came today. Did the change go through?",
        "I updated my income myself on Saturday but the old figure still shows. Do I have to do it again?",
        "The invoice came to my address but with somebody else's name on it. Should I pay it?",
        "We got a letter from you addressed to the previous tenant of our flat.",
    ),
}
"""Model version 4: near misses of the kinds that drew false positives in cross-validation over rounds 1 to 12 (label 0).

Worried writers who saw only their own data, log-in trouble, formal data requests, acting for
someone with their consent, phishing and phone calls, the writer's own old data, and letters
in another name. Written in new words, not copied from any round.
"""

SMS_SV = (
    ("jag ", "ja "),
    (" och ", " o "),
    (" är ", " e "),
    (" det ", " de "),
    (" inte ", " int "),
    (" något ", " nat "),
    (" mig ", " mej "),
    (" någon ", " ngn "),
    (" varför ", " varfor "),
)
"""sms-speak Swedish: whole-word swaps applied to some Swedish messages (then å/ä/ö are folded too)."""

WRAPPERS = {
    "sv": (
        "Tack för svaret, då gör jag så.\n\nMvh {other}\n\n> Hej,\n> Tack för ditt mejl. Vi har nu registrerat din betalning\n"
        "> och ärendet är klart.\n> Kundtjänst\n\nPS. {msg}",
        "---------- Vidarebefordrat meddelande ----------\nFrån: {other}\nÄmne: hjälp\n\n{msg}\n\n"
        "Hej, jag skickar vidare det här åt {other} som inte hittade hur man kontaktar er.",
        "Hej! Först en sak om tvättstugan i {place}: vem bokar man den hos? Tack.\n\nOch en sak till. {msg}",
        "Sv: Ärende {n}\n\n{msg}\n\n> Vi har tagit emot ditt ärende och svarar inom fem arbetsdagar.",
    ),
    "en": (
        "Thanks for the reply, I will do that.\n\nBest, {other}\n\n> Hello,\n> Thank you for your e-mail. We have now"
        " registered your payment\n> and the case is closed.\n> Customer service\n\nPS. {msg}",
        "---------- Forwarded message ---------\nFrom: {other}\nSubject: help\n\n{msg}\n\n"
        "Hi, forwarding this for {other}, who could not find how to contact you.",
        "Hi! First a question about the laundry room in {place}: who do I book it with? Thanks.\n\nAnd one more thing. {msg}",
        "Re: Case {n}\n\n{msg}\n\n> We have received your case and will reply within five working days.",
    ),
}
"""Model version 4: a message set inside a thread, a forward or after another question ({msg}), reports and near misses alike."""
