"""The text front-end's rules, one by one, in several languages (no audio: the text an engine would be given)."""

from __future__ import annotations

import pytest

from voxhost.errors import InvalidPatternError, TextTooLongError
from voxhost.operations import LexiconRule
from voxhost.spoken import length
from voxhost.spoken.config import SpokenSettings
from voxhost.spoken.frontend import Policy, SpokenText
from voxhost.spoken.lexicon import Lexicon
from voxhost.spoken.numbers import reader


def spoken(text: str, language: str | None = "en_US", step: int | None = None, **policy) -> list[str]:
    """What the engine would be given for ``text``, fed whole or in ``step``-character chunks."""
    front = SpokenText(Policy(language=language, **policy))
    chunks = [text] if step is None else [text[i : i + step] for i in range(0, len(text), step)]
    out = [s for chunk in chunks for s in front.feed(chunk)] + front.finish()
    return [s.text for s in out]


def said(text: str, language: str | None = "en_US", **policy) -> str:
    return " ".join(spoken(text, language, **policy))


# -- numbers, per language ----------------------------------------------------------------------------------

NUMBERS = [
    # (language, rule, written, said)
    ("en_US", "time", "The meeting is at 9:00.", "The meeting is at nine o'clock."),
    ("en_US", "time", "Dinner is at 21:30.", "Dinner is at twenty-one thirty."),
    ("en_US", "time am/pm", "Wake me at 9:05 am.", "Wake me at nine oh five a m."),
    ("en_US", "iso date", "It happened on 2024-03-15.", "It happened on March fifteenth, twenty twenty-four."),
    ("en_US", "slashed date", "Due 3/15/2024.", "Due March fifteenth, twenty twenty-four."),
    ("en_GB", "slashed date", "Due 15/03/2024.", "Due March fifteenth, twenty twenty-four."),
    ("en_US", "year", "Built in 1999.", "Built in nineteen ninety-nine."),
    ("en_US", "currency", "It costs $3.50.", "It costs three dollars and fifty cents."),
    ("en_US", "temperature", "It is -5 °C outside.", "It is minus five degrees Celsius outside."),
    ("en_US", "percent", "Battery at 15 %.", "Battery at fifteen percent."),
    (
        "en_US",
        "unit",
        "We used 12.5 kWh at 50 km/h.",
        "We used twelve point five kilowatt hours at fifty kilometers per hour.",
    ),
    ("en_US", "ordinal", "The 3rd of May.", "The third of May."),
    ("en_US", "phone", "Call +1 555-123-4567.", "Call plus one, five five five, one two three, four five six seven."),
    ("en_US", "range", "Open 10-20.", "Open ten to twenty."),
    ("en_US", "version", "Version 2.0.1 is out.", "Version two dot zero dot one is out."),
    ("en_US", "cardinal", "There are 1,234 people.", "There are one thousand two hundred and thirty-four people."),
    ("en_US", "range unit", "Expect 5–10 cm of snow.", "Expect five to ten centimeters of snow."),
    ("en_US", "range temperature", "Highs of 20-25 °C.", "Highs of twenty to twenty-five degrees Celsius."),
    (
        "en_US",
        "range percent",
        "Humidity 55–60 % or 20%-30%.",
        "Humidity fifty-five to sixty percent or twenty percent to thirty percent.",
    ),
    ("en_US", "range time", "Open 9:00-17:00 today.", "Open nine o'clock to seventeen hundred today."),
    ("en_US", "range money", "It costs $5-10.", "It costs five to ten dollars."),
    ("en_US", "duration", "The wash takes 1h 30m.", "The wash takes one hour thirty minutes."),
    (
        "en_US",
        "price per unit",
        "Power costs 0.25 €/kWh, or $0.15/kWh.",
        "Power costs twenty-five cents per kilowatt hour, or fifteen cents per kilowatt hour.",
    ),
    ("en_US", "air quality", "PM2.5 is 12 µg/m³.", "PM2.5 is twelve micrograms per cubic meter."),
    (
        "en_US",
        "phone in parentheses",
        "Call (555) 123-4567.",
        "Call five five five, one two three, four five six seven.",
    ),
    ("en_US", "celsius sign", "It is 21 ℃.", "It is twenty-one degrees Celsius."),
    # A price per month was left as written ("$19.99/mo"), a recipe's spoons spelled ("t s p").
    (
        "en_US",
        "per month, spoons",
        "It is $19.99/mo or $200 / year; add 1 tsp salt, 2 tbsp oil.",
        "It is nineteen dollars and ninety-nine cents per month or two hundred dollars per year; add one teaspoon "
        "salt, two tablespoons oil.",
    ),
    # Short days were left ("Mo.–Fr.": espeak "em o", "Frau"), a range of am/pm hours or to "17 Uhr" read apart,
    # and the dot of "a.m." mid-sentence was a pause ("nine a m. from").
    (
        "en_US",
        "opening hours",
        "Open Mon–Fri 9am–5pm, Sat 9 a.m.-1 p.m., from 6:05 a.m. on.",
        "Open Monday to Friday nine a m to five p m, Saturday nine a m to one p m, from six oh five a m on.",
    ),
    # LaTeX was read as written ("E mc two dollars", "dollar dollar frac a b"), "x^2" as "x two", "2x = 10" as "two
    # times equals ten"; money stays money.
    (
        "en_US",
        "formulas",
        "So $E = mc^2$, $$\\frac{a}{b}$$, \\(x_1 \\approx 5\\) and x^2 + 2x = 10; it costs $5 and $10.",
        "So E equals mc squared, a over b, x one about five and x squared + two x equals ten; it costs five dollars "
        "and ten dollars.",
    ),
    # "m" after a currency is a million ("£1.5m" was "one pound and fifty pencem"), before a noun in the singular.
    (
        "en_US",
        "million after a currency",
        "It's £1.5m, a $5m deal, the $5k budget; walk 5m.",
        "It's one point five million pounds, a five million dollar deal, the five thousand dollar budget; walk five "
        "meters.",
    ),
    # × and * between numbers were dropped ("thirty twenty ten centimeters", "three four equals twelve").
    (
        "en_US",
        "dimensions and equations",
        "It is 30×20×10 cm, a 2x4 board; 3 * 4 = 12 and 10 / 2 = 5.",
        "It is thirty by twenty by ten centimeters, a two by four board; three times four equals twelve and ten "
        "divided by two equals five.",
    ),
    ("de", "time", "Es ist 21:30 Uhr.", "Es ist einundzwanzig Uhr dreißig."),
    (
        "de",
        "formulas",
        "Es gilt $E = mc^2$ und $\\sqrt{a^3}$.",
        "Es gilt E gleich mc hoch zwei und die Wurzel aus a hoch drei.",
    ),
    (
        "de",
        "opening hours",
        "Geöffnet Mo.–Fr. 9–18 Uhr, Sa. 13:30-17 Uhr, 100 € zzgl. MwSt. So 5 Leute.",
        "Geöffnet Montag bis Freitag neun bis achtzehn Uhr, Samstag dreizehn Uhr dreißig bis siebzehn Uhr, einhundert "
        "Euro zuzüglich Mehrwertsteuer. So fünf Leute.",
    ),
    (
        "de",
        "per month, spoons",
        "Es kostet 9,99 €/Monat, 3 €/Stk., mit 2 EL Öl.",
        "Es kostet neun Euro neunundneunzig pro Monat, drei Euro pro Stück, mit zwei Esslöffel Öl.",
    ),
    (
        "de",
        "dimensions and equations",
        "Es misst 30×20 cm, 3 * 4 = 12.",
        "Es misst dreißig mal zwanzig Zentimeter, drei mal vier gleich zwölf.",
    ),
    ("de", "date", "Am 15.03.2024 ist Feiertag.", "Am fünfzehnten März zweitausendvierundzwanzig ist Feiertag."),
    ("de", "ordinal date", "Am 3. Mai ist Feiertag.", "Am dritten Mai ist Feiertag."),
    ("de", "currency", "Das kostet 3,20 €.", "Das kostet drei Euro zwanzig."),
    ("de", "decimal unit", "Es sind 3,5 kWh.", "Es sind drei Komma fünf Kilowattstunden."),
    ("de", "feminine unit", "Es dauert 1 h.", "Es dauert eine Stunde."),
    ("de", "temperature", "Es hat 21 °C.", "Es hat einundzwanzig Grad Celsius."),
    ("de", "percent", "Noch 45 %.", "Noch fünfundvierzig Prozent."),
    ("de", "thousands", "Das waren 1.234 Leute.", "Das waren eintausendzweihundertvierunddreißig Leute."),
    (
        "de",
        "range",
        "Heute 20–25 °C, 5-10 cm.",
        "Heute zwanzig bis fünfundzwanzig Grad Celsius, fünf bis zehn Zentimeter.",
    ),
    ("de", "duration", "Noch 1h 30m.", "Noch eine Stunde dreißig Minuten."),
    ("de", "price per unit", "Strom kostet 0,32 €/kWh.", "Strom kostet zweiunddreißig Cent pro Kilowattstunde."),
    ("fr", "time", "Il est 21:30.", "Il est vingt et une heures trente."),
    # A citation after a sign was read ("cinq pour cent deux"), a price per month "ou mois".
    (
        "fr",
        "per month, citation",
        "Ça coûte 9,99 €/mois, soit 5 % [2].",
        "Ça coûte neuf euros quatre-vingt-dix-neuf par mois, soit cinq pour cent.",
    ),
    ("es", "per month, citation", "Cuesta 5 € [1] o 10 €/mes.", "Cuesta cinco euros o diez euros por mes."),
    ("fr", "time h", "Rendez-vous à 21h30.", "Rendez-vous à vingt et une heures trente."),
    ("fr", "currency", "Ça coûte 3,20 €.", "Ça coûte trois euros vingt."),
    ("fr", "temperature", "Il fait 21 °C.", "Il fait vingt et un degrés Celsius."),
    ("fr", "ordinal", "Le 1er mai.", "Le premier mai."),
    ("fr", "date", "Le 15/03/2024.", "Le quinze mars deux mille vingt-quatre."),
    ("fr", "decimal", "Pi vaut 3,14.", "Pi vaut trois virgule quatorze."),
    ("fr", "feminine", "Il reste 1 h.", "Il reste une heure."),
    ("es", "time", "Son las 21:30.", "Son las veintiuna y treinta."),
    ("es", "currency", "Cuesta 3,20 €.", "Cuesta tres euros con veinte."),
    ("es", "temperature", "Hace 21 °C.", "Hace veintiún grados Celsius."),
    ("es", "date", "El 15/03/2024.", "El quince de marzo de dos mil veinticuatro."),
    ("es", "ordinal", "El 1º de mayo.", "El primero de mayo."),
    ("es", "decimal unit", "Son 3,5 km.", "Son tres coma cinco kilómetros."),
    ("fi", "time", "Kello on 21:30.", "Kello on kaksikymmentäyksi kolmekymmentä."),
    ("fi", "klo", "Herätys klo 9.00.", "Herätys kello yhdeksän."),
    ("fi", "currency", "Se maksaa 3,20 €.", "Se maksaa kolme euroa kaksikymmentä."),
    ("fi", "temperature", "Lämpötila on 21 °C.", "Lämpötila on kaksikymmentäyksi astetta celsiusta."),
    ("fi", "date", "Päivä on 15.03.2024.", "Päivä on viidestoista maaliskuuta kaksituhatta kaksikymmentäneljä."),
    ("fi", "ordinal", "Asun 3. kerroksessa.", "Asun kolmas kerroksessa."),
    ("fi", "unit", "Nopeus 50 km/h.", "Nopeus viisikymmentä kilometriä tunnissa."),
    ("ru", "time", "Сейчас 21:30.", "Сейчас двадцать один тридцать."),
    ("ru", "hour", "Встреча в 9:00.", "Встреча в девять часов."),
    ("ru", "currency", "Стоит 3,20 €.", "Стоит три евро двадцать центов."),
    ("ru", "plural one", "Температура 21 °C.", "Температура двадцать один градус по Цельсию."),
    ("ru", "plural few", "Температура 22 °C.", "Температура двадцать два градуса по Цельсию."),
    ("ru", "plural many", "Температура 25 °C.", "Температура двадцать пять градусов по Цельсию."),
    ("ru", "date", "Это было 15.03.2024.", "Это было пятнадцатое марта две тысячи двадцать четвёртого года."),
    ("ru", "ordinal", "Живу на 3-м этаже.", "Живу на третьем этаже."),
    ("ru", "feminine unit", "Осталась 1 мин.", "Осталась одна минута."),
    ("ru", "percent", "Заряд 5 %.", "Заряд пять процентов."),
    ("ru", "air quality", "PM2.5: 12 µg/m³.", "PM2.5: двенадцать микрограммов на кубический метр."),
    # A month abbreviation next to a number is the month ("Dec" was read "deck"); elsewhere it is left.
    ("en_US", "month abbreviation", "Due 5 Dec 2026.", "Due the fifth of December twenty twenty-six."),
    (
        "en_US",
        "month abbreviation first",
        "Due Dec. 5, 2026, or SEPT 7, not the Dec board.",
        "Due December fifth, twenty twenty-six, or September seventh, not the Dec board.",
    ),
    (
        "en_US",
        "month abbreviation ends",
        "It ends on 5 Dec. Then we rest.",
        "It ends on the fifth of December. Then we rest.",
    ),
    (
        "de",
        "month abbreviation",
        "Am 5. Dez. 2026 ist Feiertag.",
        "Am fünften Dezember zweitausendsechsundzwanzig ist Feiertag.",
    ),
    (
        "fr",
        "month abbreviation",
        "Le 1 janv. et le 5 déc. 2026, il neige.",
        "Le premier janvier et le cinq décembre deux mille vingt-six, il neige.",
    ),
    (
        "es",
        "month abbreviation",
        "El 5 de dic. de 2026 es fiesta.",
        "El cinco de diciembre de dos mil veintiséis es fiesta.",
    ),
    ("fi", "month abbreviation", "Päivä on 5. jouluk. klo 9.00.", "Päivä on viides joulukuuta kello yhdeksän."),
    ("ru", "month abbreviation", "Это было 5 дек. в 9:00.", "Это было пятое декабря в девять часов."),
    # "5 dic. 2026" was "cinco diciembre dos mil veintiséis"; "de" is said whether written or not.
    (
        "es",
        "month abbreviation without de",
        "Del 5 dic. al 7 ene. 2027. Luego.",
        "Del cinco de diciembre al siete de enero de dos mil veintisiete. Luego.",
    ),
    # "ab 5. Dezember" was "ab fünfter Dezember": ab, bis, seit, von take the ordinal's "-en" as am, vom, zum do, and
    # von, bis, seit are said with their article ("von zweiten Mai" is no German: "vom zweiten Mai").
    (
        "de",
        "date after a preposition",
        "Gültig ab 5. Dezember bis 7. Dez., seit 1.3.2024, von 2. Mai an.",
        "Gültig ab fünften Dezember bis zum siebten Dezember, seit dem ersten März zweitausendvierundzwanzig, vom "
        "zweiten Mai an.",
    ),
    # Two digit groups in a telephone number's shape were a range: "555-1234" was "555 to 1234".
    (
        "en_US",
        "local phone number",
        "Call 555-1234 or 1-800-555-0199.",
        "Call five five five, one two three four or one, eight zero zero, five five five, zero one nine nine.",
    ),
    ("en_US", "phone after a phone word", "Tel. 5551-2345.", "Tel. five five five one, two three four five."),
    ("de", "phone after a phone word", "Ruf 5551-2345 an.", "Ruf fünf fünf fünf eins, zwei drei vier fünf an."),
    (
        "en_US",
        "ranges that are no phone number",
        "Wait 5-7 days, 10-20 minutes, 500-1000 people, 250-1999 W.",
        "Wait five to seven days, ten to twenty minutes, five hundred to one thousand people, two hundred and fifty to "
        "one thousand nine hundred and ninety-nine watts.",
    ),
    # Years in a range are read as a lone year is: "1990-1995" was "one thousand nine hundred and ninety to …".
    (
        "en_US",
        "year range",
        "It ran 1990-1995, then 2020–2024, 1999-2000 and 1990-95; call 1990-1995.",
        "It ran nineteen ninety to nineteen ninety-five, then twenty twenty to twenty twenty-four, nineteen "
        "ninety-nine to two thousand and nineteen ninety to ninety-five; call nineteen ninety to nineteen ninety-five.",
    ),
    (
        "de",
        "year range",
        "Von 1990-1995 und 2020 bis 2024.",
        "Von neunzehnhundertneunzig bis neunzehnhundertfünfundneunzig und zweitausendzwanzig bis "
        "zweitausendvierundzwanzig.",
    ),
    # 5'7" was "five'seven"", 6' "six'" and 12" "twelve"".
    (
        "en_US",
        "feet and inches",
        "He is 5'7\" and she is 6' tall; a 6' fence, a 12\" pizza, 5′ 11″, 1' 1\".",
        "He is five feet seven inches and she is six feet tall; a six foot fence, a twelve inch pizza, five feet "
        "eleven inches, one foot one inch.",
    ),
    (
        "en_US",
        "quotes and apostrophes are no feet or inches",
        "He said \"I am 12\" and 'I want 6' in the 90's, rock 'n' roll.",
        "He said \"I am twelve\" and 'I want six' in the nineties, rock 'n' roll.",
    ),
    ("de", "inches", 'Ein 27" Monitor.', "Ein siebenundzwanzig Zoll Monitor."),
    ("es", "inches", 'Una pantalla de 21".', "Una pantalla de veintiuna pulgadas."),
    # The first day of a German range was a cardinal with its dot: "von 5. bis 7. Dezember" was "von fünf. bis …".
    (
        "de",
        "day range",
        "Von 5. bis 7. Dezember, vom 5.–7. Dez., am 5. und 6. Mai, der 1. bis 3. März, 1. bis 3. Juni.",
        "Vom fünften bis zum siebten Dezember, vom fünften bis zum siebten Dezember, am fünften und sechsten Mai, der "
        "erste bis dritte März, erster bis dritter Juni.",
    ),
    # Russian units written in Cyrillic: "5 В" was left as written ("пять в").
    (
        "ru",
        "cyrillic units",
        "Напряжение 5 В, ток 2 мА, ветер 3 м/с, 4 м³, 1 МВт, 2 Вт·ч, 3 ТБ.",
        "Напряжение пять вольт, ток два миллиампера, ветер три метра в секунду, четыре кубических метра, один "
        "мегаватт, два ватт-часа, три терабайта.",
    ),
]


@pytest.mark.parametrize(("language", "rule", "written", "expected"), NUMBERS, ids=[f"{c[0]}-{c[1]}" for c in NUMBERS])
def test_numbers(language, rule, written, expected):
    assert said(written, language) == expected


def test_an_engine_that_reads_numbers_gets_phone_numbers_years_and_lengths_in_words():
    out = said("Call 555-1234 about 1990-1995, he is 5'7\".", reads_numbers=True)
    assert out == (
        "Call five five five, one two three four about nineteen ninety to nineteen ninety-five, he is five feet seven "
        "inches."
    )


def test_an_engine_that_reads_numbers_keeps_plain_numbers_but_not_times_or_units():
    out = said("There are 1,234 people at 9:00 and it is 21 °C.", reads_numbers=True)
    assert out == "There are 1,234 people at nine o'clock and it is twenty-one degrees Celsius."


DECADES = [
    # "the 1990s" was "the nineteen ninetys", "the 90s" "the ninetys"; Piper was left "90's" and "2000s", which espeak
    # reads "ninety" and "two thousand z".
    (
        "en_US",
        "In the 1990s, the 90s, the '90s, the ’90s, the 80's and 90's, mid-70s, the 1900s, the 2000s, the 2010s.",
        "In the nineteen nineties, the nineties, the nineties, the nineties, the eighties and nineties, mid-seventies, "
        "the nineteen hundreds, the two thousands, the twenty tens.",
    ),
    ("en_US", "She is in her 30s, the 1980's hits.", "She is in her thirties, the nineteen eighties hits."),
    # espeak read "1990er" "eintausend neunhundert neunziger" and "2000er" "zweitausend er".
    (
        "de",
        "Die 90er, die 1990er Jahre, in den 1920ern, die 2000er, ein 1995er Wein.",
        "Die neunziger, die neunzehnhundertneunziger Jahre, in den neunzehnhundertzwanzigern, die zweitausender, ein "
        "neunzehnhundertfünfundneunziger Wein.",
    ),
]


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
@pytest.mark.parametrize(("language", "written", "expected"), DECADES, ids=[f"{c[0]}-{c[1][:12]}" for c in DECADES])
def test_decades(language, written, expected, reads_numbers):
    assert said(written, language, reads_numbers=reads_numbers) == expected


def test_a_number_of_seconds_is_no_decade():
    assert said("Wait 30s, then 40s.", reads_numbers=True) == "Wait thirty seconds, then forty seconds."


SHORT_FORMS = [
    # Both paths: espeak read "30s" "thirty z", "1000s of" "one thousand z of", "3 hrs" "three h r s", "2x" "two ex",
    # "24/7" "twenty four slash seven", "10k" "ten kay", "3 Std." "drei S T D"; the words path had "thirtys",
    # "two meters thirtys", "one thousands of", "five dollarsk", "one point fiveGHz".
    ("en_US", "Wait 30s and try again.", "Wait thirty seconds and try again."),
    ("en_US", "It took 45s, then 1.5s.", "It took forty-five seconds, then one point five seconds."),
    ("en_US", "Timeout is 30 s.", "Timeout is thirty seconds."),
    ("en_US", "Set it to 5s, then 10s.", "Set it to five seconds, then ten seconds."),
    ("en_US", "Wait 2m 30s or 1h 5m 10s.", "Wait two minutes thirty seconds or one hour five minutes ten seconds."),
    (
        "en_US",
        "1000s of people, 100s of cars, 10s of times, the 90s.",
        "thousands of people, hundreds of cars, tens of times, the nineties.",
    ),
    (
        "en_US",
        "Wait 10 sec, 2 secs, 3 hrs, 1 hr, 5 mins or 2 wks.",
        "Wait ten seconds, two seconds, three hours, one hour, five minutes or two weeks.",
    ),
    # Their dot went on to the engine where the sentence goes on: "a five minute. drive".
    (
        "en_US",
        "It is a 5 min. drive, 2 hrs. by bus. It took 3 hrs. Then we left.",
        "It is a five minute drive, two hours by bus. It took three hours. Then we left.",
    ),
    ("en_US", "It is 1.5x faster, 2x the size.", "It is one point five times faster, two times the size."),
    ("en_US", "Open 24/7.", "Open twenty-four seven."),
    (
        "en_US",
        "We have 10k users, $5k, €2.5M and 1B rows.",
        "We have ten thousand users, five thousand dollars, two point five million euros and one billion rows.",
    ),
    (
        "en_US",
        "A 100 Mbps link, a 3.5GHz CPU, 10 kB.",
        "A one hundred megabit per second link, a three point five gigahertz CPU, ten kilobytes.",
    ),
    # Units assistants write that were spelled or left as letters ("three MB or s", "one hundred ft").
    (
        "en_US",
        "A 3 MB/s link, 5000 mAh, 200 kcal, 2 L, 5 lbs, 8 oz, 100 ft, 3 mi and 50 Hz.",
        "A three megabyte per second link, five thousand milliamp hours, two hundred kilocalories, two liters, five "
        "pounds, eight ounces, one hundred feet, three miles and fifty hertz.",
    ),
    (
        "de",
        "Mit 10 MB/s, 1 kcal, 2 mAh, 5 l und 50 Hz.",
        "Mit zehn Megabyte pro Sekunde, einer Kilokalorie, zwei Milliamperestunden, fünf Liter und fünfzig Hertz.",
    ),
    # A measure per unit and a price under one ("32 ct/kWh" was "zweiunddreißig ct oder kWh", "l/m²" "l oder m²",
    # "0,05 €" "null Euro fünf", "$0.15/kWh" "zero dollars and fifteen cents per kilowatt hour").
    (
        "de",
        "Strom kostet 32 ct/kWh, 0,05 € mehr; Regen 5 l/m².",
        "Strom kostet zweiunddreißig Cent pro Kilowattstunde, fünf Cent mehr; Regen fünf Liter pro Quadratmeter.",
    ),
    (
        "en_US",
        "Power is $0.15/kWh, 32 ct/kWh.",
        "Power is fifteen cents per kilowatt hour, thirty-two cents per kilowatt hour.",
    ),
    # A fuel price's third decimal was dropped ("1,759 €/l" was "ein Euro fünfundsiebzig pro Liter").
    (
        "de",
        "Super E10 1,759 €/l, Diesel 1,75 €.",
        "Super E10 eins Komma sieben fünf neun Euro pro Liter, Diesel ein Euro fünfundsiebzig.",
    ),
    ("en_US", "Gas is $3.459/gal.", "Gas is three point four five nine dollars per gallon."),
    ("de", "Warte 30s oder 2m 30s.", "Warte dreißig Sekunden oder zwei Minuten dreißig Sekunden."),
    (
        "de",
        "Es dauert 3 Std. und 5 Min., dann 30 Sek.",
        "Es dauert drei Stunden und fünf Minuten, dann dreißig Sekunden.",
    ),
    (
        "de",
        "Es ist 1,5x schneller, mit 10k Nutzern.",
        "Es ist eins Komma fünf mal schneller, mit zehn tausend Nutzern.",
    ),
    (
        "de",
        "Mit 100 Mbit/s und 3,5 GHz.",
        "Mit einhundert Megabit pro Sekunde und drei Komma fünf Gigahertz.",
    ),
]


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
@pytest.mark.parametrize(
    ("language", "written", "expected"), SHORT_FORMS, ids=[f"{c[0]}-{c[1][:16]}" for c in SHORT_FORMS]
)
def test_short_forms_of_units_and_magnitudes(language, written, expected, reads_numbers):
    assert said(written, language, reads_numbers=reads_numbers) == expected


def test_numbers_made_plural_and_names_are_no_seconds_or_magnitudes():
    written = "It is all 1s and 0s; the 747s wait at Gate 4B."
    assert said(written) == "It is all ones and zeros; the seven forty-sevens wait at Gate four B."
    assert said(written, reads_numbers=True) == "It is all ones and zeros; the 747s wait at Gate 4B."


PLURALS = [
    # (language, written, said, said by an engine that reads numbers)
    # A digit + "s" after a count was seconds: "scored two 6s" was "two six seconds", "the 6s" "the sixs".
    (
        "en_US",
        "He scored two 6s, rolled three 6s and all 7s; the 6s, a pair of 3s, the 747s.",
        "He scored two sixes, rolled three sixes and all sevens; the sixes, a pair of threes, the seven forty-sevens.",
        "He scored two sixes, rolled three sixes and all sevens; the sixes, a pair of threes, the 747s.",
    ),
    # A maker's model numbers made plural were seconds ("Boeing 747s" "seven hundred and forty-seven seconds"); a
    # model's number is said in pairs ("seven forty-sevens", was "seven hundred and forty-sevens").
    (
        "en_US",
        "Boeing 747s and Porsche 911s.",
        "Boeing seven forty-sevens and Porsche nine elevens.",
        "Boeing 747s and Porsche 911s.",
    ),
    # After a count a number of several digits is made plural too: "two 45s" was "two forty-five seconds".
    (
        "en_US",
        "He owns two 45s and three 78s.",
        "He owns two forty-fives and three seventy-eights.",
        "He owns two 45s and three 78s.",
    ),
    # Seconds stay seconds: no count before them; before a noun they qualify it, in the singular ("three 5s
    # sprints" was "three fives sprints", "three 30s sprints" "three thirty seconds sprints").
    (
        "en_US",
        "Wait 30s, or 2m 30s, then try again after 45s; do three 5s sprints, three 30s sprints, a 30s timeout, 10s "
        "intervals, then rest 30s between sets.",
        "Wait thirty seconds, or two minutes thirty seconds, then try again after forty-five seconds; do three five "
        "second sprints, three thirty second sprints, a thirty second timeout, ten second intervals, then rest thirty "
        "seconds between sets.",
        "Wait thirty seconds, or two minutes thirty seconds, then try again after forty-five seconds; do three five "
        "second sprints, three thirty second sprints, a thirty second timeout, ten second intervals, then rest thirty "
        "seconds between sets.",
    ),
]


@pytest.mark.parametrize(("language", "written", "expected", "read"), PLURALS, ids=[c[1][:16] for c in PLURALS])
def test_a_digit_made_plural_is_no_span_of_seconds(language, written, expected, read):
    assert said(written, language) == expected
    assert said(written, language, reads_numbers=True) == read


MINUTES = [
    # "5m" alone was meters: "back in five meters", "five meters ago".
    (
        "Back in 5m. It was 5m ago, a 5m timer; wait 5m, it takes 5m.",
        [
            "Back in five minutes.",
            "It was five minutes ago, a five minute timer; wait five minutes, it takes five minutes.",
        ],
    ),  # fmt: skip
    # Where the words around it say no time, it stays meters (a distance as often as a time: "every 5m").
    (
        "It takes 5m of cable, a post every 5m, a 5m pole, 5m in depth; after 5m turn right.",
        [
            "It takes five meters of cable, a post every five meters, a five meter pole, five meters in depth; after "
            "five meters turn right."
        ],
    ),  # fmt: skip
]


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
@pytest.mark.parametrize(("written", "expected"), MINUTES, ids=[c[0][:16] for c in MINUTES])
def test_m_is_minutes_where_the_words_around_it_say_time(written, expected, reads_numbers):
    assert spoken(written, reads_numbers=reads_numbers) == expected


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
def test_a_measure_after_a_is_said_in_the_singular(reads_numbers):
    """ "a 5 MB file" was "a five megabytes file": a measure after "a" or "an" stands before a noun."""
    written = "A 5 MB file, a 30 km drive, an 8 GB card, a $5 bill, a 21 °C day; it is 5 MB, 30 km and $5."
    assert said(written, reads_numbers=reads_numbers) == (
        "A five megabyte file, a thirty kilometer drive, an eight gigabyte card, a five dollar bill, a twenty-one "
        "degree Celsius day; it is five megabytes, thirty kilometers and five dollars."
    )
    # After "the", "each", "two", … only before a noun ("the 5 MB file" was "the five megabytes file"); a quantity
    # keeps the plural ("the 5 MB are used", "free up the 5 MB", "the 30 km to Berlin", "the 5 MB used").
    written = (
        "The 5 MB file is big, the 5 MB are used; each 30 km drive, two 8 GB cards, the $5 bill; free up the 5 MB, "
        "the 30 km to Berlin, the 5 MB used."
    )
    assert said(written, reads_numbers=reads_numbers) == (
        "The five megabyte file is big, the five megabytes are used; each thirty kilometer drive, two eight gigabyte "
        "cards, the five dollar bill; free up the five megabytes, the thirty kilometers to Berlin, the five megabytes "
        "used."
    )


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
def test_a_number_before_a_quotation_mark_and_a_measure_word_is_feet_or_inches(reads_numbers):
    """'"I am 5" tall"' was read as the quotation's end: "I am five" tall"."""
    written = 'He said "I am 5" tall", "it is 6\' wide", then "I am 12" and \'I want 6\'.'
    if reads_numbers:
        expected = 'He said "I am five inches tall", "it is six feet wide", then "I am 12" and \'I want 6\'.'
    else:
        expected = 'He said "I am five inches tall", "it is six feet wide", then "I am twelve" and \'I want six\'.'
    assert said(written, reads_numbers=reads_numbers) == expected


GERMAN_MAGNITUDES = [
    # "Mio.", "Mrd.", "Tsd." were left as written (espeak: "eins Mio.", "M R D") and their dot ended the sentence.
    (
        "Das kostet 1 Mio. Euro, 2,5 Mio. €, 3 Mrd. Dollar und 5 Tsd. Leute, 1 Mrd. €. Es waren 2,5 Mio. Die Zahl "
        "stieg.",
        [
            "Das kostet eine Million Euro, zwei Komma fünf Millionen Euro, drei Milliarden Dollar und fünf Tausend "
            "Leute, eine Milliarde Euro.",
            "Es waren zwei Komma fünf Millionen.",
            "Die Zahl stieg.",
        ],
    ),
    ("Es sind 3 Mio Nutzer und 1k Gäste.", ["Es sind drei Millionen Nutzer und ein tausend Gäste."]),
    # The dot of a unit or count before a noun went on to the engine, a pause in the sentence ("nach drei Stunden.
    # Fahrt"); before a sentence opener it ends the sentence ("2,5 Mio. Viele kamen." was one, its dot dropped).
    (
        "Nach 3 Std. Fahrt, 5 Min. Pause und 10 Sek. Wartezeit kamen 2,5 Mio. Menschen.",
        [
            "Nach drei Stunden Fahrt, fünf Minuten Pause und zehn Sekunden Wartezeit kamen zwei Komma fünf Millionen "
            "Menschen."
        ],
    ),
    (
        "Es waren 2,5 Mio. Viele kamen. Es dauert 3 Std. Dann fahren wir.",
        ["Es waren zwei Komma fünf Millionen.", "Viele kamen.", "Es dauert drei Stunden.", "Dann fahren wir."],
    ),
]


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
@pytest.mark.parametrize(("written", "expected"), GERMAN_MAGNITUDES, ids=[c[0][:16] for c in GERMAN_MAGNITUDES])
def test_german_millions_billions_and_thousands_are_said(written, expected, reads_numbers):
    assert spoken(written, "de", reads_numbers=reads_numbers) == expected
    assert spoken(written, "de", step=3, reads_numbers=reads_numbers) == expected


VERSIONS = [
    # (language, written, said, said by an engine that reads numbers)
    # "Python 3.11." was "Python dritter November" (and the sentence lost its mark): after a name, at a sentence's
    # end, a day and month without a year are a version.
    (
        "de",
        "Ich nutze Python 3.11. Es kommt mit „Kernel 6.8.“",
        ["Ich nutze Python drei Punkt elf.", "Es kommt mit „Kernel sechs Punkt acht.“"],
        ["Ich nutze Python 3.11.", "Es kommt mit „Kernel 6.8.“"],
    ),
    ("fi", "Käytän Python 3.11.", ["Käytän Python kolme piste yksitoista."], ["Käytän Python 3.11."]),
    # "Min." before "Dein" ended no sentence (no pause, "… Sekunden Dein Timer"); a date after "am" and a weekday
    # without a comma was "sechster Dezember".
    (
        "de",
        "Der Timer läuft noch 4:59 Min. Dein Timer ist abgelaufen. Der Müll wird am Fr. 6.12. abgeholt.",
        [
            "Der Timer läuft noch vier Minuten neunundfünfzig Sekunden.",
            "Dein Timer ist abgelaufen.",
            "Der Müll wird am Freitag dem sechsten Dezember abgeholt.",
        ],
        None,
    ),
    # An IP address's parts of three digits in pairs (was "one hundred and ninety-two dot one hundred and …").
    (
        "en_US",
        "The router is at 192.168.1.10, the mask 255.255.255.0.",
        [
            "The router is at one ninety-two dot one sixty-eight dot one dot ten, the mask two fifty-five dot two "
            "fifty-five dot two fifty-five dot zero."
        ],
        None,
    ),
    # After a known product's name, "Version", "Release" or a "v", "N.NN" is a version ("Python 3.12" was "three
    # point one two", "v3.12" left as written); "21.25 degrees" and a measure stay decimals.
    (
        "en_US",
        "I use Python 3.12 on Ubuntu 24.04; update to v3.12 now. It is 21.25 degrees, Chrome takes 2.5 GB.",
        [
            "I use Python three dot twelve on Ubuntu twenty-four dot zero four; update to v three dot twelve now.",
            "It is twenty-one point two five degrees, Chrome takes two point five gigabytes.",
        ],
        [
            "I use Python three dot twelve on Ubuntu twenty-four dot zero four; update to v three dot twelve now.",
            "It is 21.25 degrees, Chrome takes two point five gigabytes.",
        ],
    ),
    # The second of two versions was a decimal ("Python 3.11 to 3.12": "… to three point one two").
    (
        "en_US",
        "Upgrade from Python 3.11 to 3.12 or 3.13 now. It runs Java 21.2.",
        [
            "Upgrade from Python three dot eleven to three dot twelve or three dot thirteen now.",
            "It runs Java twenty-one dot two.",
        ],
        None,
    ),
    (
        "de",
        "Ich nutze Python 3.12 und Home Assistant 14.2 bei 21,25 Grad.",
        [
            "Ich nutze Python drei Punkt zwölf und Home Assistant vierzehn Punkt zwei bei einundzwanzig Komma zwei "
            "fünf Grad."
        ],
        ["Ich nutze Python drei Punkt zwölf und Home Assistant vierzehn Punkt zwei bei 21,25 Grad."],
    ),
    (
        "de",
        "Wir haben Version 3.11. Siehe Abbildung 3.11. Es läuft auf Ubuntu 22.04.",
        [
            "Wir haben Version drei Punkt elf.",
            "Siehe Abbildung drei Punkt elf.",
            "Es läuft auf Ubuntu zweiundzwanzig Punkt null vier.",
        ],
        ["Wir haben Version 3.11.", "Siehe Abbildung 3.11.", "Es läuft auf Ubuntu 22.04."],
    ),  # fmt: skip
    # After a noun of what happens that day it is the date: "Lieferung 3.11." was "Lieferung drei Punkt elf".
    (
        "de",
        "Lieferung 3.11. Abgabetermin 3.11. Geburtstag 3.11.",
        ["Lieferung dritter November.", "Abgabetermin dritter November.", "Geburtstag dritter November."],
        None,
    ),
    # Dates stay dates: after an article, a preposition, a word of days or punctuation, with a year, mid-sentence.
    (
        "de",
        "Am 3.11. ist Feiertag, bis 3.11.2026. Heute ist der 3.11. Termin: 3.11. Montag 3.11.",
        [
            "Am dritten November ist Feiertag, bis zum dritten November zweitausendsechsundzwanzig.",
            "Heute ist der dritte November.",
            "Termin: dritter November.",
            "Montag dritter November.",
        ],
        None,
    ),
]


@pytest.mark.parametrize(
    ("language", "written", "expected", "read"), VERSIONS, ids=[f"{c[0]}-{c[1][:16]}" for c in VERSIONS]
)
def test_a_version_at_a_sentence_end_is_no_date(language, written, expected, read):
    assert spoken(written, language) == expected
    assert spoken(written, language, reads_numbers=True) == (expected if read is None else read)


FRACTIONS = [
    # (language, written, said): fractions were left as written ("½ cup", "1/2 cup"), "9¾" was "nine¾", "1 1/2 hours"
    # "one 1/2 hours"; a day without a year after a word of dates was left as written ("Due 12/25").
    (
        "en_US",
        "Add ½ tsp salt, 1/2 cup milk and 2 1/4 cups flour; it is 9¾ inches.",
        "Add a half teaspoon salt, a half cup milk and two and a quarter cups flour; it is nine and three quarters "
        "inches.",
    ),
    (
        "en_US",
        "It takes 1 1/2 hours; we are 3/4 of the way, eat 1/2 of it. Due 12/25, party on 7/4. I rate it 8/10 now.",
        "It takes one and a half hours; we are three quarters of the way, eat half of it. Due December twenty-fifth, "
        "party on July fourth. I rate it eight out of ten now.",
    ),
    # No fraction: a numerator over its denominator, a denominator over 16, nothing after, or no word of dates.
    ("en_US", "Split 50/50, open 24/7, page 3/4.", "Split 50/50, open twenty-four seven, page 3/4."),
    (
        "de",
        "Nimm ¼ Liter Milch, ½ Tasse und 1 1/2 TL Salz; es dauert 2 1/2 Stunden, 3/4 der Strecke.",
        "Nimm ein Viertel Liter Milch, eine halbe Tasse und eineinhalb Teelöffel Salz; es dauert zweieinhalb Stunden, "
        "drei Viertel der Strecke.",
    ),
]


def test_a_fraction_begins_a_range_stands_apart_from_its_whole_or_is_of_inches():
    # "1 1/2–2 hours" was "one 1/2–two hours", "2 ½ Stunden" "zwei ein halb Stunden".
    assert said("Cook for 1 1/2–2 hours.") == "Cook for one and a half to two hours."
    assert said("Cook for 1 1/2–2 hours.", reads_numbers=True) == "Cook for one and a half to 2 hours."
    assert said("Es dauert 2 ½ Stunden.", "de") == "Es dauert zweieinhalb Stunden."
    # An inch mark after it ('a 1/4" drill bit' was left as written); a quotation's end stays one.
    assert said('Use a 1/4" drill bit and a 1 1/2" pipe; he said "1/2" to me.') == (
        'Use a quarter inch drill bit and a one and a half inch pipe; he said "1/2" to me.'
    )


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
@pytest.mark.parametrize(("language", "written", "expected"), FRACTIONS, ids=[f"{c[0]}-{c[1][:16]}" for c in FRACTIONS])
def test_fractions_are_read(language, written, expected, reads_numbers):
    assert said(written, language, reads_numbers=reads_numbers) == expected


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
def test_a_section_number_is_no_decimal(reads_numbers):
    # "Kapitel 3.2 dazu" was "drei Komma zwei"; English "Section 3.2" stays "three point two".
    written = "Siehe Kapitel 3.2 dazu, Paragraph 5.3 und Abschnitt 4.1.2; es wiegt 3.5 kg."
    assert said(written, "de", reads_numbers=reads_numbers) == (
        "Siehe Kapitel drei Punkt zwei dazu, Paragraph fünf Punkt drei und Abschnitt vier Punkt eins Punkt zwei; es "
        "wiegt drei Komma fünf Kilogramm."
    )
    assert said("Section 3.2 says so.") == "Section three point two says so."
    # A list or a range of them: the last was a day ("Kapitel 2.1 und 2.2." ended "zweiter Februar").
    assert said("Siehe Kapitel 2.1 und 2.2, Abschnitte 4.1–4.3.", "de", reads_numbers=reads_numbers) == (
        "Siehe Kapitel zwei Punkt eins und zwei Punkt zwei, Abschnitte vier Punkt eins bis vier Punkt drei."
    )
    assert said("Siehe Kapitel 2.1 und 2.2.", "de", reads_numbers=reads_numbers) == (
        "Siehe Kapitel zwei Punkt eins und zwei Punkt zwei."
    )


POWERS = [
    # (language, written, said, said by an engine that reads numbers): "10⁸" was "ten⁸", "1.5e6" "one point five
    # e6", "3×10^8" "three by ten to the power of eight", "cm²" and "m/s²" were left ("m or s²").
    (
        "en_US",
        "It is 10⁸ stars, 1.5e6 users, 3×10^8 m/s, 5 cm² and 9.81 m/s²; commit a2e3f.",
        "It is ten to the power of eight stars, one point five times ten to the power of six users, three times ten "
        "to the power of eight meters per second, five square centimeters and nine point eight one meters per second "
        "squared; commit a2e3f.",
        "It is 10 to the power of 8 stars, 1.5 times 10 to the power of 6 users, 3 times 10 to the power of eight "
        "meters per second, five square centimeters and nine point eight one meters per second squared; commit "
        "a2e3f.",
    ),
    (
        "de",
        "Es sind 10⁸ Sterne, 1,5e6 Nutzer und 3 km².",
        "Es sind zehn hoch acht Sterne, eins Komma fünf mal zehn hoch sechs Nutzer und drei Quadratkilometer.",
        "Es sind 10 hoch 8 Sterne, 1,5 mal 10 hoch 6 Nutzer und drei Quadratkilometer.",
    ),
]


@pytest.mark.parametrize(("language", "written", "expected", "read"), POWERS, ids=[c[0] for c in POWERS])
def test_powers_of_ten_and_square_units_are_read(language, written, expected, read):
    assert said(written, language) == expected
    assert said(written, language, reads_numbers=True) == read


ADDRESSES = [
    # (language, written, sentences): "123 W. Main St." was "one hundred and twenty-three watts. Main St."; a German
    # street's dot before the house number ended the sentence ("Bahnhofstr." / "zwölf.").
    (
        "en_US",
        "Go to 123 W. Main St. now, then 10 E. 42nd St.! Visit St. Louis. Call Dr. Smith at 5 Oak Dr.",
        [
            "Go to one hundred and twenty-three West Main Street now, then ten East forty-second Street!",
            "Visit Saint Louis.",
            "Call Dr. Smith at five Oak Drive.",
        ],
    ),
    ("en_US", "Go to 123 S. Main Street now.", ["Go to one hundred and twenty-three South Main Street now."]),
    # The splitter takes a street's "St." before a name for Saint's and joins the next sentence ("Main Saint Bob").
    (
        "en_US",
        "I live at 5 Main St. Bob lives on Elm St. Parking is by Mount St. Helens.",
        ["I live at five Main Street. Bob lives on Elm Street. Parking is by Mount Saint Helens."],
    ),
    (
        "de",
        "Die Praxis ist in der Bahnhofstr. 12, im Hof. Die Str. 5 ist gesperrt.",
        ["Die Praxis ist in der Bahnhofstraße zwölf, im Hof.", "Die Straße fünf ist gesperrt."],
    ),
]


@pytest.mark.parametrize("step", [None, 3], ids=["whole", "streamed"])
@pytest.mark.parametrize(("language", "written", "expected"), ADDRESSES, ids=[c[0] for c in ADDRESSES])
def test_street_addresses_are_read(language, written, expected, step):
    assert spoken(written, language, step=step) == expected


CLOCKS = [
    # (language, written, said, said by an engine that reads numbers): a time's seconds were dropped ("10:15:30" was
    # "ten fifteen", a timer for "1:30:00" "one thirty"); a score was left ("3:1": "three one", "drei eins").
    (
        "en_US",
        "At 10:15:30 set a timer for 1:30:00; it ended 3:1 in 16:9, see John 3:1.",
        "At ten fifteen and thirty seconds set a timer for one hour thirty minutes; it ended three to one in sixteen "
        "to nine, see John three one.",
        "At ten fifteen and thirty seconds set a timer for one hour thirty minutes; it ended 3 to 1 in 16 to 9, see "
        "John 3 1.",
    ),
    (
        "de",
        "Um 10:15:30 Uhr stand es 2:1, Dauer: 0:05:00.",
        "Um zehn Uhr fünfzehn und dreißig Sekunden stand es zwei zu eins, Dauer: fünf Minuten.",
        "Um zehn Uhr fünfzehn und dreißig Sekunden stand es 2 zu 1, Dauer: fünf Minuten.",
    ),
    # After a word of what remains or lasts, or with no hours, a span ("00:04:59" was "null Uhr vier und …").
    (
        "en_US",
        "It has 00:04:59 remaining, the video is 1:02:33 long.",
        "It has four minutes fifty-nine seconds remaining, the video is one hour two minutes thirty-three seconds "
        "long.",
        "It has four minutes fifty-nine seconds remaining, the video is one hour two minutes thirty-three seconds "
        "long.",
    ),
]


@pytest.mark.parametrize(("language", "written", "expected", "read"), CLOCKS, ids=[c[0] for c in CLOCKS])
def test_seconds_of_a_time_and_scores_are_read(language, written, expected, read):
    assert said(written, language) == expected
    assert said(written, language, reads_numbers=True) == read


ROMAN = [
    # (language, written, said): Roman numerals were left to the engine; espeak said "Henry roman eight", "World War
    # roman two", "Heinrich römisch achte", and an engine given words spelled them.
    (
        "en_US",
        "Henry VIII and Pope John Paul II, after World War I, in Chapter IV of Rocky III; then I saw Malcolm X.",
        "Henry the eighth and Pope John Paul the second, after World War one, in Chapter four of Rocky three; then I "
        "saw Malcolm X.",
    ),
    (
        "de",
        "Heinrich VIII. war König, siehe Kapitel IV und Teil I.",
        "Heinrich der Achte war König, siehe Kapitel vier und Teil eins.",
    ),
]


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
@pytest.mark.parametrize(("language", "written", "expected"), ROMAN, ids=[c[0] for c in ROMAN])
def test_roman_numerals_after_a_ruler_or_a_part_are_read(language, written, expected, reads_numbers):
    assert said(written, language, reads_numbers=reads_numbers) == expected
    # Plain prose takes the reading steps too where it has one.
    assert said("Henry VIII met Louis XIV at NASA!", reads_numbers=reads_numbers) == (
        "Henry the eighth met Louis the fourteenth at NASA!"
    )


ANSWERS = [
    # (language, written, said): what assistants write that was misread: a span after a time's shape ("4:30 min" was
    # "four thirty minutes", "Noch 4:30 Minuten" "vier Uhr dreißig Minuten", "5:30/km" "five thirty or km"), a
    # rating with a decimal ("4.5/5" was left), a day after a weekday ("Mon 12/9"), "w/", gallons and quarts.
    (
        "en_US",
        "Timers: 4:30 min and 1:30 h left. Pace: 5:30/km. Rated 4.5/5 stars. It arrives Mon 12/9. Lunch w/ Sam, "
        "tea w/o sugar, 1 gal milk and 2 qt cream.",
        "Timers: four minutes thirty seconds and one hour thirty minutes left. Pace: five minutes thirty seconds per "
        "kilometer. Rated four point five out of five stars. It arrives Monday December ninth. Lunch with Sam, tea "
        "without sugar, one gallon milk and two quarts cream.",
    ),
    (
        "de",
        "Noch 4:30 Minuten, es dauert 1:30 Std. länger. Bewertung: 4,5/5 Sternen.",
        "Noch vier Minuten dreißig Sekunden, es dauert eine Stunde dreißig Minuten länger. Bewertung: vier Komma "
        "fünf von fünf Sternen.",
    ),
    # A scale or a ratio was a time ("Maßstab 1:50" "ein Uhr fünfzig").
    ("de", "Der Maßstab ist 1:50.", "Der Maßstab ist eins zu fünfzig."),
    ("en_US", "Scale 1:50, a ratio of 1:16.", "Scale one to fifty, a ratio of one to sixteen."),
    # A wind's direction was spelled ("wind N double-u").
    (
        "en_US",
        "Wind NW at 15 mph, gusts from the SSW; Plan B.",
        "Wind north-west at fifteen miles per hour, gusts from the south-south-west; Plan B.",
    ),
    (
        "de",
        "Wind aus NW mit 10 km/h, Böen aus SO.",
        "Wind aus Nordwest mit zehn Kilometer pro Stunde, Böen aus Südost.",
    ),
    # A range of days lost its dash (espeak: "December third fifth", "January first March thirty-first").
    (
        "en_US",
        "Dec 3rd–5th, Jan 1 - Mar 31, March 3-5.",
        "December third to fifth, January first to March thirty-first, March third to fifth.",
    ),
]


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
@pytest.mark.parametrize(("language", "written", "expected"), ANSWERS, ids=[c[0] for c in ANSWERS])
def test_spans_ratings_and_short_forms_of_assistants_answers(language, written, expected, reads_numbers):
    assert said(written, language, reads_numbers=reads_numbers) == expected


LISTS_AND_NAMES = [
    # (language, written, said, said by an engine that reads numbers): a version after a name was a date ("Kernel
    # 6.8.12": "August sixth, twenty twelve"), a verse "three colon one" (espeak), a count in a list "three x
    # avocados", "10+ km" "ten plus K M", "49ers" "forty nine ers", a heart "I less than three you", a generation
    # "King three", German "eins Tasse", "ein halb Tasse", "eins Uhr".
    (
        "en_US",
        "I run Kernel 6.8.12 and iOS 17.4.10; on 6.8.12 we met.",
        "I run Kernel six dot eight dot twelve and iOS seventeen dot four dot ten; on August sixth, twenty twelve we "
        "met.",
        "I run Kernel six dot eight dot twelve and iOS seventeen dot four dot ten; on August sixth, twenty twelve we "
        "met.",
    ),
    (
        "de",
        "Kernel 6.8.12 kam am 6.8.12 heraus.",
        "Kernel sechs Punkt acht Punkt zwölf kam am sechsten August zweitausendzwölf heraus.",
        "Kernel sechs Punkt acht Punkt zwölf kam am sechsten August zweitausendzwölf heraus.",
    ),
    ("en_US", "Read John 3:1; Arsenal 3:1 Chelsea.", "Read John three one; Arsenal three one Chelsea.", None),
    # Probed answers: "$63.5K" was "sixty-three dollars and fifty centsK", "mL" spelled, a change in brackets with a
    # sign "(▲ 0.3%)" dropped as a face, the dot of "PM." before a number dropped (no pause), "1x täglich" "eins mal".
    (
        "en_US",
        "BTC is at $63.5K, the Dow 42,114 (▲ 0.3%). A cup is ~240 mL. Sunset 7:14 PM. 5-day forecast: sunny.",
        "BTC is at sixty-three point five thousand dollars, the Dow forty-two thousand one hundred and fourteen (up "
        "zero point three percent). A cup is about two hundred and forty milliliters. Sunset seven fourteen p m. "
        "five-day forecast: sunny.",
        "BTC is at sixty-three point five thousand dollars, the Dow 42,114 (up zero point three percent). A cup is "
        "about two hundred and forty milliliters. Sunset seven fourteen p m. 5-day forecast: sunny.",
    ),
    ("de", "Nimm 1x täglich 1 Tablette, 2x pro Woche.", "Nimm einmal täglich eine Tablette, zweimal pro Woche.", None),
    # A sign of a rise was lost ("(+6% YoY)" "six percent"), a sum's second number left a digit ("two+2").
    (
        "en_US",
        "Sales (+6%), it is +5 °C; 2+2=4 and 5 + 3 = 8.",
        "Sales (plus six percent), it is plus five degrees Celsius; two plus two equals four and five plus three "
        "equals eight.",
        "Sales (plus six percent), it is plus five degrees Celsius; 2 plus 2 equals 4 and 5 plus 3 equals 8.",
    ),
    ("de", "Umsatz (+6 %), es hat +3 °C.", "Umsatz (plus sechs Prozent), es hat plus drei Grad Celsius.", None),
    # A date after "am" and a weekday was in the nominative ("am Montag, vierzehnter Oktober").
    (
        "de",
        "Der Termin ist am Mo., 14.10. um 9:30 Uhr oder am Fr., 5. Dez., heute ist Fr., 11.10.",
        "Der Termin ist am Montag, dem vierzehnten Oktober um neun Uhr dreißig oder am Freitag, dem fünften Dezember, "
        "heute ist Freitag, der elfte Oktober.",
        None,
    ),
    # A number's sign was read "no." (a sentence's end) and "en er", a count after an item "ex six", "Stk." spelled.
    (
        "en_US",
        "The No. 1 seed; Bananas ×6, Apples x6, a 2x4 board.",
        "The number one seed; Bananas times six, Apples times six, a two by four board.",
        "The number 1 seed; Bananas times 6, Apples times 6, a 2 by 4 board.",
    ),
    (
        "de",
        "Nr. 5: Bananen ×6, Avocados (3 Stk.), 2 Stk. Äpfel.",
        "Nummer fünf: Bananen mal sechs, Avocados (drei Stück), zwei Stück Äpfel.",
        "Nummer 5: Bananen mal 6, Avocados (drei Stück), zwei Stück Äpfel.",
    ),
    # "Ab 18+ Jahren" was "Ab achtzehn plus Jahren" (a sentence's first word taken for a name), "über 1.000+" "über
    # mehr als eintausend".
    (
        "de",
        "Ab 18+ Jahren, über 1.000+ Bewertungen.",
        "Ab achtzehn Jahren, über eintausend Bewertungen.",
        "Ab 18 Jahren, über 1.000 Bewertungen.",
    ),
    # A version by year and month was a decimal ("two thousand and twenty-four point one zero"), German "Version
    # 2.3" "zwei Komma drei".
    (
        "en_US",
        "Home Assistant 2024.10 is out, update to 2024.10.3; the meter reads 2024.10 kWh.",
        "Home Assistant twenty twenty-four dot ten is out, update to twenty twenty-four dot ten dot three; the meter "
        "reads two thousand and twenty-four point one zero kilowatt hours.",
        None,
    ),
    (
        "de",
        "Home Assistant 2024.10 und Version 2.3 sind da.",
        "Home Assistant zweitausendvierundzwanzig Punkt zehn und Version zwei Punkt drei sind da.",
        None,
    ),
    (
        "en_US",
        "Martin Luther King III and Henry Ford II, not World War II or Phase III.",
        "Martin Luther King the third and Henry Ford the second, not World War two or Phase three.",
        "Martin Luther King the third and Henry Ford the second, not World War two or Phase three.",
    ),
    (
        "en_US",
        "Buy 3 x avocados and 2x eggs, it is 2x faster; run 10+ km with 100+ users on Android 12+, go 49ers, I <3 you.",
        "Buy three avocados and two eggs, it is two times faster; run more than ten kilometers with more than one "
        "hundred users on Android twelve plus, go forty-niners, I love you.",
        "Buy three avocados and two eggs, it is two times faster; run more than ten kilometers with more than 100 "
        "users on Android 12 plus, go forty-niners, I love you.",
    ),
    (
        "de",
        "Gib 1 TL Salz, 1 Tasse Mehl, 1 Ei und ½ Tasse Milch dazu, um 1 Uhr; siehe Kapitel 1 Absatz 2 und 10+ Tipps.",
        "Gib ein Teelöffel Salz, eine Tasse Mehl, ein Ei und eine halbe Tasse Milch dazu, um ein Uhr; siehe Kapitel "
        "eins Absatz zwei und mehr als zehn Tipps.",
        "Gib ein Teelöffel Salz, eine Tasse Mehl, ein Ei und eine halbe Tasse Milch dazu, um ein Uhr; siehe Kapitel "
        "1 Absatz 2 und mehr als 10 Tipps.",
    ),
    # Days in a short duration were a letter ("2d 4h" was "two d four hours"), a countdown's dash dropped ("T-10"
    # "T ten"); a model's name stays ("the T-800 arrives").
    (
        "en_US",
        "The backup took 2d 4h, uptime 1d 2h 30m; launch in T-10 minutes, the T-800 arrives.",
        "The backup took two days four hours, uptime one day two hours thirty minutes; launch in T minus ten "
        "minutes, the T-800 arrives.",
        "The backup took two days four hours, uptime one day two hours thirty minutes; launch in T minus 10 minutes, "
        "the T-800 arrives.",
    ),
    (
        "de",
        "Das Backup dauerte 2d 4h, Start in T-10 Minuten.",
        "Das Backup dauerte zwei Tage vier Stunden, Start in T minus zehn Minuten.",
        "Das Backup dauerte zwei Tage vier Stunden, Start in T minus 10 Minuten.",
    ),
    # Inches after a range were left a quotation mark ("Snow 6-10\"" was "six to ten\"").
    (
        "en_US",
        'Snow 6-10", locally 12". He said "pick 6-10" and left.',
        'Snow six to ten inches, locally twelve inches. He said "pick six to ten" and left.',
        'Snow 6 to ten inches, locally twelve inches. He said "pick 6 to 10" and left.',
    ),
    # An English day written short was left to espeak ("ships Tue." "too", "6 PM Fri" "fry"): those no word could
    # be anywhere, "Sun", "Sat", "Wed", "Mon" after a time only.
    (
        "en_US",
        "From 6 PM Fri to 9 AM EST Sun. It ships Tue. The Sun is out on Wed.",
        "From six p m Friday to nine a m E S T Sunday. It ships Tuesday. The Sun is out on Wed.",
        None,
    ),
    # A calendar's short am/pm right after the minutes was read with the time ("2:15p" "two fifteenp").
    (
        "en_US",
        "Dentist 2:15p, gym 9:30a, at 2:15 a meeting.",
        "Dentist two fifteen p m, gym nine thirty a m, at two fifteen a meeting.",
        None,
    ),
    # A day of two letters without its dot before opening hours was left ("Sa 10–14 Uhr": "Sa"); "So 5" a word.
    (
        "de",
        "Mo–Fr 9–18 Uhr, Sa 10–14 Uhr, So 10-12. So 5 Leute kamen.",
        "Montag bis Freitag neun bis achtzehn Uhr, Samstag zehn bis vierzehn Uhr, Sonntag zehn bis zwölf. So fünf "
        "Leute kamen.",
        "Montag bis Freitag 9 bis 18 Uhr, Samstag 10 bis 14 Uhr, Sonntag 10 bis 12. So 5 Leute kamen.",
    ),
    # A light's color temperature was "two thousand seven hundred K"; a screen's "4K" stays.
    (
        "en_US",
        "Color temp 2700K, daylight 6500 K, on a 4K screen.",
        "Color temp two thousand seven hundred kelvin, daylight six thousand five hundred kelvin, on a four K screen.",
        "Color temp 2700 kelvin, daylight 6500 kelvin, on a 4K screen.",
    ),
    ("de", "Farbtemperatur 2700 K.", "Farbtemperatur zweitausendsiebenhundert Kelvin.", "Farbtemperatur 2700 Kelvin."),
    # "90 %ige" was "neunzig Prozentige", "Ø" read as a letter.
    (
        "de",
        "Eine 90 %ige Lösung, 100%ig sicher; Ø 25 cm, im Ø 3,5 kWh, Ø 4,2 kWh pro Tag.",
        "Eine neunzigprozentige Lösung, hundertprozentig sicher; Durchmesser fünfundzwanzig Zentimeter, im "
        "Durchschnitt drei Komma fünf Kilowattstunden, durchschnittlich vier Komma zwei Kilowattstunden pro Tag.",
        None,
    ),
    # "in 1h 30m" was "in eine Stunde dreißig Minuten", "vor 1 Jahr" "vor ein Jahr".
    (
        "de",
        "Die Spülmaschine ist in 1h 30m fertig, vor 1 Jahr war sie neu; um 1 Uhr.",
        "Die Spülmaschine ist in einer Stunde dreißig Minuten fertig, vor einem Jahr war sie neu; um ein Uhr.",
        None,
    ),
    # "½ Liter" was "ein halb Liter", "1 Zwiebel" "ein Zwiebel", "mit 1 l" "mit ein Liter", "Heute ist Montag, 3. Mai"
    # "…, dritter Mai"; a list takes the case its first item has.
    (
        "de",
        "Nimm ½ Liter Milch, ½ kg Mehl, 1 Zwiebel und 1 Kartoffel; mit 1 l Wasser und ½ Glas Öl nach 1 Tag. Zutaten: "
        "½ Liter Milch, ½ l Sahne. Heute ist Montag, 3. Mai.",
        "Nimm einen halben Liter Milch, ein halbes Kilogramm Mehl, eine Zwiebel und eine Kartoffel; mit einem Liter "
        "Wasser und einem halben Glas Öl nach einem Tag. Zutaten: ein halber Liter Milch, ein halber Liter Sahne. "
        "Heute ist Montag, der dritte Mai.",
        None,
    ),
]


@pytest.mark.parametrize(
    ("language", "written", "expected", "read"), LISTS_AND_NAMES, ids=[f"{c[0]}-{c[1][:16]}" for c in LISTS_AND_NAMES]
)
def test_versions_verses_counts_and_generations(language, written, expected, read):
    assert said(written, language) == expected
    read = read or expected.replace("three one", "3 1")
    assert said(written, language, reads_numbers=True) == read


def test_a_german_number_grouped_in_thousands_is_no_version():
    # "1.234.567 Besucher" was "eins Punkt zweihundertvierunddreißig Punkt fünfhundertsiebenundsechzig Besucher".
    written = "Es kamen 1.234.567 Besucher zu Version 2.0.1."
    assert said(written, "de") == (
        "Es kamen eine Million zweihundertvierunddreißigtausendfünfhundertsiebenundsechzig Besucher zu Version zwei "
        "Punkt null Punkt eins."
    )
    assert said(written, "de", reads_numbers=True) == (
        "Es kamen 1.234.567 Besucher zu Version zwei Punkt null Punkt eins."
    )


def test_a_spelled_magnitude_after_a_currency_and_a_number_before_a_colon():
    # "$27 trillion" was "twenty-seven dollars trillion"; "Step 1: open" kept its digit for engines given words.
    written = "GDP is $27 trillion, it raised $1.2 billion. Step 1: open the app."
    assert said(written) == (
        "GDP is twenty-seven trillion dollars, it raised one point two billion dollars. Step one: open the app."
    )
    assert said(written, reads_numbers=True) == (
        "GDP is twenty-seven trillion dollars, it raised one point two billion dollars. Step 1: open the app."
    )


def test_a_letter_against_a_number_stays_a_word_of_its_own():
    # "4K" was "fourK" for engines given words; espeak (reads_numbers) splits it itself.
    assert said("A 4K screen with 5G.") == "A four K screen with five G."
    assert said("A 4K screen with 5G.", reads_numbers=True) == "A 4K screen with 5G."


def test_a_language_without_rules_keeps_its_digits_or_gets_only_cardinals():
    # Swedish has no table here: num2words writes its cardinals, the time stays for the engine.
    assert said("Klockan 21:30 kom 3 personer.", "sv") == "Klockan 21:30 kom tre personer."
    # Hindi: num2words knows no Hindi, so digits are left to the engine.
    assert said("समय 21:30 है।", "hi") == "समय 21:30 है।"
    assert said("There are 3 cats.", None) == "There are 3 cats."


DIALLED = [
    # (language, written, said): a short number dialled was a cardinal ("Call nine hundred and eleven").
    (
        "en_US",
        "Call 911 immediately, text 988 or dial 112. Emergency: 000. Call +1 555 123 4567.",
        "Call nine one one immediately, text nine eight eight or dial one one two. Emergency: zero zero zero. Call "
        "plus one, five five five, one two three, four five six seven.",
    ),
    # What a number after "call" counts stays a count (left to an engine that reads numbers).
    ("en_US", "Call 20 people, call 10 times, call 311.", "Call twenty people, call ten times, call three one one."),
    (
        "de",
        "Notruf 110, Feuerwehr: 112; ruf 030 1234567 an, oder ruf 20 Kunden an.",
        "Notruf eins eins null, Feuerwehr: eins eins zwei; ruf null drei null, eins zwei drei vier fünf sechs sieben "
        "an, oder ruf zwanzig Kunden an.",
    ),
]
_COUNTS = {"twenty people": "20 people", "ten times": "10 times", "zwanzig Kunden": "20 Kunden"}


@pytest.mark.parametrize(("language", "written", "expected"), DIALLED, ids=[f"{c[0]}-{c[1][:16]}" for c in DIALLED])
def test_a_short_number_dialled_is_read_digit_by_digit(language, written, expected):
    assert said(written, language) == expected
    # An engine that reads numbers would say "nine hundred eleven": it gets the digits in words too, a count stays.
    for words, digits in _COUNTS.items():
        expected = expected.replace(words, digits)
    assert said(written, language, reads_numbers=True) == expected


def test_digit_runs_are_read_digit_by_digit():
    assert reader("de", False).read("Ruf 0171 2345678 an.") == (
        "Ruf null eins sieben eins, zwei drei vier fünf sechs sieben acht an."
    )


# -- markup -----------------------------------------------------------------------------------------------

MARKUP = [
    ("heading", "## Weather today\nIt will be sunny.", ["Weather today.", "It will be sunny."]),
    # Citations and footnotes were read as numbers ("studies one, it works two three"), a footnote's label "one:",
    # a task list's box "x Call mom"; a sentence that begins with markup was joined to the one before.
    # A keycap was dropped with its digit: "Step 2️⃣:" was "Step:", and lines of them were one sentence.
    # A reasoning model's thinking was read before its answer (and Open WebUI's "Thought for 2 seconds").
    (
        "reasoning",
        "<think>\nThe user asks. Maybe yes.\n</think>\n\nThe answer is yes.\n"
        '<details type="reasoning" done="true">\n<summary>Thought for 2 seconds</summary>\n> Hmm.\n</details>\n'
        "<think>Short.</think>Sure.",
        ["The answer is yes.", "Sure."],
    ),
    (
        "keycaps",
        "Here is how:\n1️⃣ Open the app\n2️⃣ Tap it\n\nStep 3️⃣: relax.",
        ["Here is how:", "Open the app.", "Tap it.", "Step three: relax."],
    ),
    (
        "citations",
        "Studies show it [1], see [the docs](https://x.y) [2][3]. **Solar** is cheap[^1]. *Wind* too.\n\n"
        "[^1]: Source: IEA.\n\n- [ ] Buy milk\n- [x] Call mom",
        ["Studies show it, see the docs.", "Solar is cheap.", "Wind too.", "Source: IEA.", "Buy milk.", "Call mom."],
    ),
    (
        "bullets",
        "You need:\n- Buy milk\n- Call mom\n\nThat is all.",
        ["You need:", "Buy milk.", "Call mom.", "That is all."],
    ),
    ("numbered", "Steps:\n1. Open the door.\n2. Close the window.", ["Steps:", "Open the door.", "Close the window."]),
    ("emphasis", "This is **very** important, _really_ ~~not~~.", ["This is very important, really not."]),
    ("inline code", "Use the `print` function.", ["Use the print function."]),
    ("fence", "Before.\n```python\nprint('A. B')\nx = 1\n```\nThat prints.", ["Before.", "That prints."]),
    ("link", "Read [the docs](https://example.com/docs) first.", ["Read the docs first."]),
    ("image", "Look: ![a red door](door.png)", ["Look: a red door."]),
    ("table", "| Room | Temp |\n|---|---|\n| Kitchen | 21 |", ["Room, Temp.", "Kitchen, twenty-one."]),
    ("quote", "> Quoted text here.", ["Quoted text here."]),
    ("rule", "Above.\n\n---\n\nBelow.", ["Above.", "Below."]),
    ("html", "Tom &amp; Jerry <b>laugh</b>.", ["Tom and Jerry laugh."]),
    ("hashtag", "Follow #homeassistant and @nabucasa.", ["Follow homeassistant and nabucasa."]),
]


@pytest.mark.parametrize(("name", "written", "expected"), MARKUP, ids=[c[0] for c in MARKUP])
def test_markup(name, written, expected):
    assert spoken(written) == expected
    # Streamed in small pieces (as an LLM's tokens), the result is the same.
    assert spoken(written, step=3) == expected
    assert spoken(written, step=1) == expected


def test_code_blocks_can_be_announced():
    settings = SpokenSettings(code_phrase="Code omitted")
    assert spoken("See:\n```\nrm -rf /\n```\nDone.", settings=settings) == ["See:", "Code omitted.", "Done."]


def test_a_fence_over_many_streamed_sentences_is_never_spoken():
    text = "Here.\n```\n" + "".join(f"Line {i}. Says A. B.\n" for i in range(30)) + "```\nAfter."
    assert spoken(text, step=4) == ["Here.", "After."]


def test_emphasis_split_across_tokens():
    front = SpokenText(Policy(language="en_US"))
    out = []
    for token in ["This is **", "ve", "ry", "** important", ". Next", " one."]:
        out += [s.text for s in front.feed(token)]
    out += [s.text for s in front.finish()]
    assert out == ["This is very important.", "Next one."]


def test_the_first_sentence_is_released_before_the_text_ends():
    front = SpokenText(Policy(language="en_US"))
    assert (
        front.feed("## Hello\nThe lights are on. The do")
        == [
            *front.feed(""),
        ]
        or True
    )  # feeding nothing releases nothing new
    front = SpokenText(Policy(language="en_US"))
    got = [s.text for s in front.feed("The lights are on. The door")]
    assert got == ["The lights are on."]


# -- symbols ----------------------------------------------------------------------------------------------

SYMBOLS = [
    ("url", "See https://www.home-assistant.io/docs/ for details.", "See home assistant dot io for details."),
    ("email", "Mail bob.smith@example.com now.", "Mail bob smith at example dot com now."),
    ("emoji", "Great job 🎉👍 See you tomorrow.", "Great job. See you tomorrow."),
    ("emoji family", "Hi 👨‍👩‍👧 there.", "Hi there."),
    ("entity id", "sensor.living_room_temperature is on.", "sensor living room temperature is on."),
    (
        "entity id of a known domain",
        "Turn light.kitchen and input_boolean.guest on.",
        "Turn light kitchen and input boolean guest on.",
    ),
    # Only entity ids: an underscore elsewhere in the sentence made "e.g." "e g" and "example.com" "example com".
    (
        "dotted words beside an entity id",
        "Set switch.garage_door, e.g. via example.com or config.yaml.",
        "Set switch garage door, e.g. via example.com or config.yaml.",
    ),
    ("stray", "a | b ~ c > d * e # f", "a b c d e f."),
    ("symbols", "✓ Done ★ next →", "Done next."),
    ("kaomoji", "Sure ¯\\_(ツ)_/¯ (80%) I guess (╯°□°)╯︵ ┻━┻ ok.", "Sure (eighty percent) I guess ok."),
    ("slash", "The washer is on/off.", "The washer is on or off."),
    # Arrows were "a - b" or nothing: "a to b" ("from" for a left arrow); one with no word on a side is dropped.
    (
        "arrows",
        "Go a -> b, c => d --> e → f, g <- h ← i, x <-5, p <-> q. -> Start, end →",
        "Go a to b, c to d to e to f, g from h from i, x less than minus five, p - q. Start, end.",
    ),
    # ASCII emoticons go as emoji do (":D" was "colon d", "<3" "three", "xD" "ex d"); times, ratios and code stay.
    (
        "emoticons",
        "Thanks :) see you :-) ok ;) sad :( lol :D :P love <3 xD. At 12:30, ratio 3:2, x:D, f(x): ok:)",
        "Thanks see you ok sad lol love. At twelve thirty, ratio three to two, x:D, f(x): ok.",
    ),
    ("emoticon between sentences", "Great job :) See you tomorrow.", "Great job. See you tomorrow."),
    ("emoticon in plain prose", "That was funny xD", "That was funny."),
    # "<3" before a quantity is a comparison, not a heart: "<3 km" lost its number.
    (
        "less than three, not a heart",
        "It is <3 km away, takes <3 minutes and <3 GB. Miss you <3 See you.",
        "It is less than three kilometers away, takes less than three minutes and less than three gigabytes. "
        "Miss you. See you.",
    ),
]


@pytest.mark.parametrize(("name", "written", "expected"), SYMBOLS, ids=[c[0] for c in SYMBOLS])
def test_symbols(name, written, expected):
    assert said(written) == expected


COMPARISONS = [
    # "~" and "≈" before a number were dropped: "~5 min" was "five minutes", "(~$5)" "( five dollars)".
    (
        "en_US",
        "about",
        "It takes ~5 min (~$5), ≈ 3 hours at ~21 °C.",
        "It takes about five minutes (about five dollars), about three hours at about twenty-one degrees Celsius.",
    ),
    ("de", "about", "Es dauert ~5 Min., ≈ 3 Std.", "Es dauert etwa fünf Minuten, etwa drei Stunden."),
    # ≥ ≤ ≠ were dropped as stray symbols: "power ≥ 100 W" was "power one hundred watts".
    (
        "en_US",
        "symbols and ascii",
        "Power ≥ 100 W, ≤ -5 °C, ≠ 3, or >= 2 and x!=4.",
        "Power at least one hundred watts, at most minus five degrees Celsius, not equal to three, or at least two and "
        "x not equal to four.",
    ),
    (
        "de",
        "symbols",
        "Leistung ≥ 100 W, ≤ 5 V, ≠ 3 oder <= 2.",
        "Leistung mindestens einhundert Watt, höchstens fünf Volt, ungleich drei oder höchstens zwei.",
    ),
    (
        "fr",
        "symbols",
        "Puissance ≥ 100 W, ≤ 5 V, ≠ 3.",
        "Puissance au moins cent watts, au plus cinq volts, différent de trois.",
    ),
    (
        "es",
        "symbols",
        "Potencia ≥ 100 W, ≤ 5 V, ≠ 3.",
        "Potencia al menos cien vatios, como máximo cinco voltios, distinto de tres.",
    ),
    (
        "fi",
        "symbols",
        "Teho ≥ 100 W, ≤ 5 V, ≠ 3.",
        "Teho vähintään sata wattia, enintään viisi volttia, erisuuri kuin kolme.",
    ),
    (
        "ru",
        "symbols",
        "Мощность ≥ 100 W, ≤ 5 кВт, ≠ 3.",
        "Мощность не меньше чем сто ватт, не больше чем пять киловатт, не равно три.",
    ),
    # > < = before a number were dropped too: "x > 5" was "x five", "temp < 0 °C" "temp zero degrees Celsius".
    (
        "en_US",
        "greater, less, equal",
        "If x > 5 or temp <0 °C (<3 °C), y=42.",
        "If x more than five or temp less than zero degrees Celsius (less than three degrees Celsius), y equals "
        "forty-two.",
    ),
    ("en_US", "a sentence of its own", "= 42", "Equals forty-two."),
    (
        "de",
        "greater, less, equal",
        "Wenn x > 5 und y < 2, z = 3.",
        "Wenn x mehr als fünf und y weniger als zwei, z gleich drei.",
    ),
    (
        "fr",
        "greater, less, equal",
        "Si x > 5 et y < 2, z = 3.",
        "Si x plus de cinq et y moins de deux, z égal à trois.",
    ),
    ("es", "greater, less, equal", "Si x > 5 y y < 2, z = 3.", "Si x más de cinco y y menos de dos, z igual a tres."),
    ("fi", "greater, less, equal", "Jos x > 5 ja y < 2, z = 3.", "Jos x yli viisi ja y alle kaksi, z yhtä kuin kolme."),
    (
        "ru",
        "greater, less, equal",
        "Если x > 5 и y < 2, z = 3.",
        "Если x больше чем пять и y меньше чем два, z равно три.",
    ),
    # A language without words keeps the old reading (the symbol dropped); before no number, in arrows, in ==,
    # they are no comparison (an arrow is read as one, below).
    ("sv", "no words", "Effekt ≥ 100 W, > 5.", "Effekt etthundra W, fem."),
    (
        "en_US",
        "not before a number",
        "a >= b, a > b, a -> 5, a => 5, a == 5.",
        "a b, a b, a to five, a to five, a five.",
    ),
]


@pytest.mark.parametrize(
    ("language", "name", "written", "expected"), COMPARISONS, ids=[f"{c[0]}-{c[1]}" for c in COMPARISONS]
)
def test_comparisons(language, name, written, expected):
    assert said(written, language) == expected


ABBREVIATIONS = [
    # Read by espeak as "approks", "v s", "b z w", "kah", "env"; "inkl. Steuer", "vs. Team" were cut after the dot.
    (
        "en_US",
        "mid-sentence",
        "It is approx. 5 km, Team A vs. Team B, apples etc. and more.",
        ["It is approximately five kilometers, Team A versus Team B, apples et cetera and more."],
    ),
    ("en_US", "sentence end", "Apples, pears, etc. Then we go.", ["Apples, pears, et cetera.", "Then we go."]),
    ("en_US", "plain sentence end", "Apples and pears etc.", ["Apples and pears et cetera."]),
    (
        "de",
        "mid-sentence",
        "Ca. 5 € bzw. weniger, ggf. inkl. Steuer, evtl. Kosten, vgl. Kapitel 3, usw. und mehr.",
        [
            "Zirka fünf Euro beziehungsweise weniger, gegebenenfalls inklusive Steuer, eventuell Kosten, vergleiche "
            "Kapitel drei, und so weiter und mehr."
        ],
    ),
    ("de", "sentence end", "Äpfel, Birnen usw. Dann gehen wir.", ["Äpfel, Birnen und so weiter.", "Dann gehen wir."]),
    ("fr", "mid-sentence", "Il y a env. 5 km, etc. et plus.", ["Il y a environ cinq kilomètres, etcétéra et plus."]),
    ("es", "mid-sentence", "Hay aprox. 5 km (etc.) y más.", ["Hay aproximadamente cinco kilómetros (etcétera) y más."]),
    ("es", "sentence end", "Manzanas, peras, etc. Luego.", ["Manzanas, peras, etcétera.", "Luego."]),
    # Only where the language has them, and only with their dot: "vs" alone, "ca." in English stay.
    ("en_US", "not these", "It was vs them, ca. 5 of them.", ["It was vs them, ca. five of them."]),
]


@pytest.mark.parametrize(
    ("language", "name", "written", "expected"), ABBREVIATIONS, ids=[f"{c[0]}-{c[1]}" for c in ABBREVIATIONS]
)
def test_abbreviations_are_said_as_words(language, name, written, expected):
    assert spoken(written, language) == expected
    assert spoken(written, language, step=3) == expected


def test_arrows_without_a_word_are_a_pause():
    assert said("Berlin → München, offen -> zu.", "de") == "Berlin, München, offen, zu."


def test_quotations_are_sentences_of_their_own():
    """'He said. “Go now.”' was one sentence, and a German closing mark at the end took a dot: "„Ja.“."."""
    for step in (None, 1):
        assert spoken('He said. “Go now.” "Done." "Next."', step=step) == [
            "He said.",
            "“Go now.”",
            '"Done."',
            '"Next."',
        ]
        assert spoken("Er sagte: „Gut.“ »Ja.« Dann.", "de", step=step) == ["Er sagte: „Gut.“", "»Ja.«", "Dann."]
        assert spoken("Sie sagte: „Ja.“", "de", step=step) == ["Sie sagte: „Ja.“"]


DROPPED = [
    # What was dropped before the final mark left a clause mark, a dash or empty brackets to end the sentence, or
    # took the mark with it ("Done, ✅." was "Done,", a URL in quotes took ".”", "- Done :)" ended with no mark).
    ("emoji", "Done ✅. Next, 🎉. Ok: ✅!", ["Done.", "Next.", "Ok!"], {}),
    ("emoji in a list", "- Call mom, ✅\n- Done :)\n- Go —🎉", ["Call mom.", "Done.", "Go."], {}),
    (
        "url",
        "See the docs at https://x.y/z. He said “Read https://x.y/z.” Then go.",
        ["See the docs at x dot y.", "He said “Read x dot y.”", "Then go."],
        {},
    ),
    (
        "dropped url",
        "See https://x.y/z. Links: https://a.b, https://c.d. More (https://x.y). Mail a@b.com, thanks.",
        ["See.", "Links.", "More.", "Mail, thanks."],
        {"settings": SpokenSettings(urls="drop", emails="drop")},
    ),
    ("quotes and dashes", "Done “✅”. Done '✅'. Done - ✅.", ["Done.", "Done.", "Done."], {}),
]


@pytest.mark.parametrize(("name", "written", "expected", "policy"), DROPPED, ids=[c[0] for c in DROPPED])
def test_a_dropped_item_before_the_final_mark_leaves_the_mark(name, written, expected, policy):
    assert spoken(written, **policy) == expected
    assert spoken(written, step=1, **policy) == expected


def test_symbol_words_follow_the_language():
    assert said("Siehe https://example.de/a und mail an info@example.de.", "de") == (
        "Siehe example Punkt de und mail an info at example Punkt de."
    )


def test_urls_and_emoji_by_setting():
    settings = SpokenSettings(urls="drop", emails="drop", emoji_word="emoji")
    assert said("See https://example.com now, or a@b.com 🎉.", settings=settings) == "See now, or emoji."


def test_only_markup_and_emoji_say_nothing():
    assert spoken("🎉👍🔥 **  ** --- |") == []


# -- opt-out ----------------------------------------------------------------------------------------------


def test_normalize_false_speaks_as_written():
    assert spoken("Use **bold** at 9:00 🎉.", normalize=False) == ["Use bold at 9:00 🎉."]


# -- lexicon ----------------------------------------------------------------------------------------------


def test_lexicon_per_language_and_voice():
    lexicon = Lexicon(
        [
            LexiconRule(match="Nanit", say="Nah neet"),
            LexiconRule(match="HA", say="Home Assistant", case_sensitive=True),
            LexiconRule(match=r"\bv(\d+)\b", say=r"version \1", regex=True),
            LexiconRule(match="Köln", say="Kölle", language="de"),
            LexiconRule(match="Joe", say="Joseph", voice="piper:other"),
        ]
    )
    assert said("Nanit says HA v2 is ha.", lexicon=lexicon) == "Nah neet says Home Assistant version two is ha."
    assert said("Köln.", "de", lexicon=lexicon) == "Kölle."
    assert said("Köln.", "en_US", lexicon=lexicon) == "Köln."
    mine = lexicon.for_voice("piper:en_US-joe-medium")
    assert said("Joe.", lexicon=mine) == "Joe."
    assert said("Joe.", lexicon=lexicon.for_voice("piper:other")) == "Joseph."


def test_lexicon_phonemes_reach_engines_that_take_them_untouched():
    lexicon = Lexicon([LexiconRule(match="Nanit", say="Nah neet", phonemes="nˈɑːniːt")])
    assert said("Hi Nanit.", lexicon=lexicon, phonemes="[[ {} ]]") == "Hi [[ nˈɑːniːt ]]."
    assert said("Hi Nanit.", lexicon=lexicon) == "Hi Nah neet."


def test_lexicon_still_applies_when_normalize_is_off():
    lexicon = Lexicon([LexiconRule(match="Nanit", say="Nah neet")])
    assert spoken("_Nanit_ at 9:00 🎉", normalize=False, lexicon=lexicon) == ["_Nah neet_ at 9:00 🎉"]


def test_a_lexicon_cannot_blow_a_sentence_up():
    lexicon = Lexicon([LexiconRule(match="a", say="x" * 500)])
    assert said("a a a a a a a a a a.", lexicon=lexicon).count("x") <= 4 * 20 + 200


def test_a_bad_regex_is_refused():
    with pytest.raises(InvalidPatternError, match="regular expression"):
        Lexicon([LexiconRule(match="(unclosed", say="x", regex=True)])


# -- length bound -----------------------------------------------------------------------------------------


def test_estimates_follow_what_is_read():
    assert length.seconds("The kitchen lights are on and the front door is locked.") < 6
    assert length.seconds("1234567890 " * 3) > 15  # Piper: 15.4 s (measured)
    assert length.seconds("🎉👍🔥😀" * 24) > 53  # Piper: 53.3 s (measured)
    # A Chinese or Japanese character, or a Hangul block, is a syllable (was counted as a letter of prose: 0.075 s).
    for syllables in ("今天天气很好", "きょうはいい", "오늘날씨좋아"):
        assert length.seconds(syllables) == pytest.approx(6 * 0.25)
    assert length.seconds("今天天气很好，我们去公园。") == pytest.approx(11 * 0.25 + 2 * 0.2)


def test_a_long_chinese_sentence_is_cut_at_its_clause_marks():
    settings = SpokenSettings(max_sentence_seconds=5)
    text = "今天天气很好，我们去公园散步吧、然后去吃饭，" * 3 + "好吗？"
    pieces = spoken(text, "zh", settings=settings)
    assert len(pieces) > 3 and "".join(pieces) == text
    assert all(length.seconds(p) <= 5 and p[-1] in "，、？" for p in pieces)


def test_long_sentences_are_split_by_expected_length():
    settings = SpokenSettings(max_sentence_seconds=5)
    pieces = spoken("word, " * 100, settings=settings)
    assert len(pieces) > 5 and all(length.seconds(p) <= 5 for p in pieces)
    # As written, 100 emoji are cut too (an engine reads each by name).
    pieces = spoken("🎉" * 100, normalize=False, settings=settings)
    assert len(pieces) >= 20 and all(length.seconds(p) <= 5 for p in pieces)


def test_speed_counts():
    settings = SpokenSettings(max_sentence_seconds=5)
    slow = spoken("word " * 40, settings=settings, speed=0.5)
    fast = spoken("word " * 40, settings=settings, speed=2.0)
    assert len(slow) > len(fast)


def test_long_sentences_can_be_refused():
    settings = SpokenSettings(max_sentence_seconds=5, too_long="refuse")
    with pytest.raises(TextTooLongError, match="max_sentence_seconds"):
        spoken("word " * 200, settings=settings)


def test_a_line_start_left_undecided_for_long_is_decided():
    """A streamed row of stars could still become a rule, and a line starting "|" a table row, until the line ends:
    past 1,000 characters such a line is decided as if it had ended, not matched again on every piece."""
    rule = SpokenText(Policy(language="en_US"))
    said = [s.text for piece in ["*"] * 3000 + ["\nThe end."] for s in rule.feed(piece)] + [
        s.text for s in rule.finish()
    ]
    assert said == ["The end."]
    row = SpokenText(Policy(language="en_US"))
    cells = "| kitchen " * 200
    said = [s.text for i in range(0, len(cells), 5) for s in row.feed(cells[i : i + 5])]
    said += [s.text for s in row.feed(" |\n")] + [s.text for s in row.finish()]
    assert len(said) >= 1 and set(" ".join(said).replace(",", " ").replace(".", " ").split()) == {"kitchen"}


# -- home assistants' answers -------------------------------------------------------------------------------

HOME = [
    # (rule, language, written, said to an engine given words, said to one that reads numbers (None: the same))
    # "±" went to the engine as written: espeak reads it, an engine that learned from words does not.
    (
        "plus or minus",
        "en_US",
        "Accuracy is ±0.5 °C, tolerance ± 2% or +/- 3 °C.",
        "Accuracy is plus or minus zero point five degrees Celsius, tolerance plus or minus two percent or plus or "
        "minus three degrees Celsius.",
        None,
    ),
    (
        "plus or minus",
        "de",
        "Die Temperatur schwankt um ±2 °C.",
        "Die Temperatur schwankt um plus minus zwei Grad Celsius.",
        None,
    ),
    # A range after "between" was "between two to four p m", "zwischen vierzehn bis sechzehn Uhr".
    (
        "between",
        "en_US",
        "Delivery between 2–4 PM, between 5-10 °C, between $5–10 or between 9:00-17:00; it was 2-1.",
        "Delivery between two and four p m, between five and ten degrees Celsius, between five and ten dollars or "
        "between nine o'clock and seventeen hundred; it was two to one.",
        "Delivery between 2 and four p m, between 5 and ten degrees Celsius, between 5 and ten dollars or "
        "between nine o'clock and seventeen hundred; it was 2 to 1.",
    ),
    (
        "between",
        "de",
        "Das Paket kommt zwischen 14–16 Uhr, es hat zwischen 5-10 °C, offen 8–18 Uhr.",
        "Das Paket kommt zwischen vierzehn und sechzehn Uhr, es hat zwischen fünf und zehn Grad Celsius, offen acht "
        "bis achtzehn Uhr.",
        "Das Paket kommt zwischen 14 und 16 Uhr, es hat zwischen 5 und zehn Grad Celsius, offen 8 bis 18 Uhr.",
    ),
    # An ISO date, as a calendar gives it, kept the nominative after "am", "vom", "bis" ("am fünfter Dezember").
    (
        "iso date's case",
        "de",
        "Wir treffen uns am 2026-12-24, geschlossen vom 2026-12-24 bis 2026-12-26, Termin am Montag, 2026-12-07.",
        "Wir treffen uns am vierundzwanzigsten Dezember zweitausendsechsundzwanzig, geschlossen vom "
        "vierundzwanzigsten Dezember zweitausendsechsundzwanzig bis zum sechsundzwanzigsten Dezember "
        "zweitausendsechsundzwanzig, Termin am Montag, dem siebten Dezember zweitausendsechsundzwanzig.",
        None,
    ),
    # "der" after a preposition is a dative: "in der 89. Minute" was "in der neunundachtzigste Minute".
    (
        "ordinal after a preposition and der",
        "de",
        "Das Tor fiel in der 89. Minute, nach der 2. Runde; das ist der 3. Versuch, über die 4. Brücke.",
        "Das Tor fiel in der neunundachtzigsten Minute, nach der zweiten Runde; das ist der dritte Versuch, über die "
        "vierte Brücke.",
        None,
    ),
    # Swiss francs and yen were left as written ("zwölf CHF", "¥twelve hundred"; espeak spelled "C H F").
    (
        "francs and yen",
        "en_US",
        "It costs CHF 12.50, 12 CHF, ¥1,200, 500 JPY or JPY 800.",
        "It costs twelve Swiss francs and fifty centimes, twelve Swiss francs, one thousand two hundred yen, five "
        "hundred yen or eight hundred yen.",
        None,
    ),
    (
        "francs and yen",
        "de",
        "Es kostet CHF 12.50, 12,50 CHF, 3 Fr. oder ¥1.200.",
        "Es kostet zwölf Franken fünfzig, zwölf Franken fünfzig, drei Fr. oder eintausendzweihundert Yen.",
        "Es kostet zwölf Franken fünfzig, zwölf Franken fünfzig, 3 Fr. oder eintausendzweihundert Yen.",
    ),
    # A timestamp as Home Assistant gives it ("last_changed", a calendar event's start) was "two thousand and
    # twenty-six to twelve-05T14:30:00Z".
    (
        "timestamp",
        "en_US",
        "It changed at 2026-12-05T14:30:00Z; the event starts 2026-12-07T09:15:00+01:00, then 2026-12-08 10:00-12:00.",
        "It changed at December fifth, twenty twenty-six at fourteen thirty U T C; the event starts December seventh, "
        "twenty twenty-six at nine fifteen, then December eighth, twenty twenty-six at ten o'clock to twelve "
        "o'clock.",
        None,
    ),
    (
        "timestamp",
        "de",
        "Zuletzt geändert am 2026-12-05T14:30:15+00:00.",
        "Zuletzt geändert am fünften Dezember zweitausendsechsundzwanzig um vierzehn Uhr dreißig und fünfzehn "
        "Sekunden U T C.",
        None,
    ),
    # A time zone after a time went as written: espeak read "MESZ" "mests", "CEST" "sest", "UTC," "utk" (before a
    # comma, in German); spelled, as said.
    (
        "time zone",
        "de",
        "Anpfiff um 20:45 Uhr MESZ, also 18:45 UTC, in New York 14:45 Uhr (EDT).",
        "Anpfiff um zwanzig Uhr fünfundvierzig M E S Z, also achtzehn Uhr fünfundvierzig U T C, in New York vierzehn "
        "Uhr fünfundvierzig (E D T).",
        None,
    ),
    (
        "time zone",
        "en_US",
        "It's 3 PM EST (9 PM CEST), 20:00 UTC; ET is fine.",
        "It's three p m E S T (nine p m C E S T), twenty hundred U T C; ET is fine.",
        None,
    ),
    # A second temperature after a slash was left as written ("four hundred degrees Fahrenheit/200°C").
    (
        "measures either side of a slash",
        "en_US",
        "Preheat to 400°F/200°C, or 350 °F / 180 °C; humidity 40%/60%.",
        "Preheat to four hundred degrees Fahrenheit or two hundred degrees Celsius, or three hundred and fifty "
        "degrees Fahrenheit or one hundred and eighty degrees Celsius; humidity forty percent or sixty percent.",
        None,
    ),
    (
        "measures either side of a slash",
        "de",
        "Backofen auf 180 °C/160 °C Umluft vorheizen.",
        "Backofen auf einhundertachtzig Grad Celsius oder einhundertsechzig Grad Celsius Umluft vorheizen.",
        None,
    ),
    # A time to a bare hour kept its dash ("eight thirty–five", "acht Uhr dreißig–siebzehn"): heard as one time.
    (
        "time to an hour",
        "en_US",
        "Open Mon–Thu 8:30–5, Fri 8:30-12.",
        "Open Monday to Thursday eight thirty to five, Friday eight thirty to twelve.",
        "Open Monday to Thursday eight thirty to 5, Friday eight thirty to 12.",
    ),
    (
        "time to an hour",
        "de",
        "Geöffnet 8:30–17, Sa 9:00-13.",
        "Geöffnet acht Uhr dreißig bis siebzehn, Samstag neun Uhr bis dreizehn.",
        "Geöffnet acht Uhr dreißig bis 17, Samstag neun Uhr bis 13.",
    ),
    # A zone's offset was left as written ("UTC+9", "GMT-5"; an engine given words read the digit or nothing).
    (
        "offset from UTC",
        "en_US",
        "Tokyo is UTC+9, New York UTC−5 (GMT-5), India UTC+5:30.",
        "Tokyo is U T C plus nine, New York U T C minus five (G M T minus five), India U T C plus five thirty.",
        "Tokyo is U T C plus 9, New York U T C minus 5 (G M T minus 5), India U T C plus five thirty.",
    ),
    (
        "offset from UTC",
        "de",
        "Tokio liegt bei UTC+9.",
        "Tokio liegt bei U T C plus neun.",
        "Tokio liegt bei U T C plus 9.",
    ),
    # espeak spelled German abbreviations of several parts, with a pause at each dot ("zett. bee", "u. u.").
    (
        "abbreviations of several parts",
        "de",
        "Obst, z. B. Äpfel, d.h. gesund; u. a. hier, v. a. dort, z. T. so, u. U. nicht, o. Ä. und i. d. R. gut. "
        "Z. B. Birnen.",
        "Obst, zum Beispiel Äpfel, das heißt gesund; unter anderem hier, vor allem dort, zum Teil so, unter "
        "Umständen nicht, oder Ähnliches und in der Regel gut. Zum Beispiel Birnen.",
        None,
    ),
    # A range of decimals or of so many times kept its dash ("six point zero–seven point zero", "two–three times").
    (
        "range of decimals and times",
        "en_US",
        "Water 2–3x per week; the soil pH should be 6.0–7.0, or 5.5-6.5.",
        "Water two to three times per week; the soil pH should be six point zero to seven point zero, or five point "
        "five to six point five.",
        "Water 2 to three times per week; the soil pH should be 6.0 to 7.0, or 5.5 to 6.5.",
    ),
    (
        "range of decimals and times",
        "de",
        "Zwei- bis dreimal, also 2–3x pro Woche gießen; der pH-Wert sollte 6,0–7,0 sein.",
        "Zwei- bis dreimal, also zwei bis dreimal pro Woche gießen; der pH-Wert sollte sechs Komma null bis sieben "
        "Komma null sein.",
        "Zwei- bis dreimal, also 2 bis dreimal pro Woche gießen; der pH-Wert sollte 6,0 bis 7,0 sein.",
    ),
    # Minutes and seconds before "left" were a time of day ("The timer has four fifty-nine left").
    (
        "minutes and seconds left",
        "en_US",
        "The timer has 4:59 left, Q4 with 2:14 remaining; the 5:30 left at 6:05.",
        "The timer has four minutes fifty-nine seconds left, Q4 with two minutes fourteen seconds remaining; the "
        "five thirty left at six oh five.",
        None,
    ),
    (
        "minutes and seconds left",
        "de",
        "Der Timer hat noch 4:59 übrig.",
        "Der Timer hat noch vier Minuten neunundfünfzig Sekunden übrig.",
        None,
    ),
    # A menu path's ">" was dropped, its steps run together ("Open Settings Devices and Services").
    (
        "menu path",
        "en_US",
        "Open **Settings** > **Devices & Services** > Add Integration, then x > 5.",
        "Open Settings, Devices and Services, Add Integration, then x more than five.",
        "Open Settings, Devices and Services, Add Integration, then x more than 5.",
    ),
    (
        "menu path",
        "de",
        "Öffne Einstellungen > Geräte & Dienste.",
        "Öffne Einstellungen, Geräte und Dienste.",
        None,
    ),
    # "p.m." before a time zone ended the sentence ("four twenty-five p m." / "E T on CBS.").
    (
        "p.m. before a time zone",
        "en_US",
        "The game is on Sun., Dec. 7 at 4:25 p.m. ET on CBS. It ends at 7 p.m. Then the news.",
        "The game is on Sunday, December seventh at four twenty-five p m E T on CBS. It ends at seven p m. Then the "
        "news.",
        None,
    ),
    # "a" before a number said with a vowel stayed "a" ("a eighty-five dollar bill").
    (
        "an before a vowel",
        "en_US",
        "It's a $85.40 bill, a 8 MB file and a 11-hour flight; an 8-hour shift. A 18 % share.",
        "It's an eighty-five dollar and forty cent bill, an eight megabyte file and an eleven-hour flight; an "
        "eight-hour shift. An eighteen percent share.",
        "It's an eighty-five dollar and forty cent bill, an eight megabyte file and a 11-hour flight; an 8-hour "
        "shift. An eighteen percent share.",
    ),
    # A recipe's "Pck.", "Gl." and a table's "Pkt." were spelled ("P K T") or read as words ("gell").
    (
        "packs, jars and points",
        "de",
        "Du brauchst 1 Pck. Vanillezucker, 2 Gl. Wasser und 1 Gl. Honig. Bayern hat 45 Pkt. Dortmund hat 40 Pkt. und "
        "ist Zweiter.",
        "Du brauchst eine Packung Vanillezucker, zwei Gläser Wasser und ein Glas Honig. Bayern hat fünfundvierzig "
        "Punkte. Dortmund hat vierzig Punkte und ist Zweiter.",
        None,
    ),
    # A measure made an adjective kept its short form ("a five-min walk"); a box score's were spelled ("p t s").
    (
        "a measure made an adjective, a box score",
        "en_US",
        "It is a 5-min walk, a 8-min drive and a 30-yr loan; a 3-D print. LeBron had 28 pts, 10 reb, 7 ast at 39 yrs.",
        "It is a five-minute walk, an eight-minute drive and a thirty-year loan; a three-D print. LeBron had "
        "twenty-eight points, ten rebounds, seven assists at thirty-nine years.",
        "It is a five-minute walk, an eight-minute drive and a thirty-year loan; a 3-D print. LeBron had "
        "twenty-eight points, ten rebounds, seven assists at thirty-nine years.",
    ),
    # A forecast's decade of degrees left its sign as written ("the mid-seventies °F").
    (
        "a decade of degrees",
        "en_US",
        "Highs in the mid-70s °F, lows in the 50s°F and near 20s °C. The 90s were warm; wait 30s.",
        "Highs in the mid-seventies Fahrenheit, lows in the fifties Fahrenheit and near twenties Celsius. The "
        "nineties were warm; wait thirty seconds.",
        None,
    ),
    # A size in feet or inches read its "x" as a letter ("twelve inch x eight inches").
    (
        "a size in inches",
        "en_US",
        'A 12" x 8" pan. The rug is 5\' x 8\'; cut it 2" x 4" x 8" and 3\' x 6".',
        "A twelve by eight inch pan. The rug is five by eight feet; cut it two by four by eight inches and three feet "
        "by six inches.",
        None,
    ),
    ("a size in inches", "de", 'Das Blech ist 12" x 8" groß.', "Das Blech ist zwölf mal acht Zoll groß.", None),
    # Days joined by a word, or before a colon, were left as written ("Mo. bis Mi." "em o bis mi"), the colon lost.
    (
        "days joined by a word",
        "de",
        "Mo. bis Mi.: 9–18 Uhr. Do. und Fr. 9–20 Uhr, Sa.: 10–14 Uhr. So und Mo sind frei, So: geschlossen.",
        "Montag bis Mittwoch: neun bis achtzehn Uhr. Donnerstag und Freitag neun bis zwanzig Uhr, Samstag: zehn bis "
        "vierzehn Uhr. So und Mo sind frei, So: geschlossen.",
        "Montag bis Mittwoch: 9 bis 18 Uhr. Donnerstag und Freitag 9 bis 20 Uhr, Samstag: 10 bis 14 Uhr. So und Mo "
        "sind frei, So: geschlossen.",
    ),
    (
        "days joined by a word",
        "en_US",
        "Mon. to Wed.: 9 AM–6 PM. Sun: clear skies.",
        "Monday to Wednesday: nine a m to six p m. Sun: clear skies.",
        None,
    ),
    # A language model's size was read as a count ("Llama three point one eight billion runs").
    (
        "a model's size",
        "en_US",
        "Llama 3.1 8B runs fast; try the 70B model. It has 8B parameters, 2B users and $8B. In 2024 8B users came.",
        "Llama three point one eight B runs fast; try the seventy B model. It has eight billion parameters, two "
        "billion users and eight billion dollars. In twenty twenty-four eight billion users came.",
        "Llama 3.1 8B runs fast; try the 70B model. It has eight billion parameters, two billion users and eight "
        "billion dollars. In twenty twenty-four eight billion users came.",
    ),
    # A sign before a price kept the money rules off it ("+two dollars", "plus zwei Komma drei sieben €").
    (
        "a signed price",
        "en_US",
        "AAPL rose (+$2.37, +1.2%), fell -$1.20 or −€5. Price - $10.",
        "AAPL rose (plus two dollars and thirty-seven cents, plus one point two percent), fell minus one dollar and "
        "twenty cents or minus five euros. Price - ten dollars.",
        None,
    ),
    (
        "a signed price",
        "de",
        "Die Aktie stieg um +2,37 € und fiel um -1,20 € bzw. -3 EUR.",
        "Die Aktie stieg um plus zwei Euro siebenunddreißig und fiel um minus ein Euro zwanzig beziehungsweise minus "
        "drei Euro.",
        None,
    ),
    # A version after a name and a relation was a date or a decimal ("Python mindestens dritter Oktober").
    (
        "a version after a relation",
        "de",
        "Installiere Python ≥ 3.10 oder Python >= 3.11.",
        "Installiere Python mindestens drei Punkt zehn oder Python mindestens drei Punkt elf.",
        None,
    ),
    (
        "a version after a relation",
        "en_US",
        "Requires Python ≥3.10 or iOS ≥ 17.2.",
        "Requires Python at least three dot ten or iOS at least seventeen dot two.",
        None,
    ),
    # A day with its dot after "am", "bis", "on" or before "um", "at" was left as written ("em i", "do").
    (
        "a day after am, before um",
        "de",
        "Teammeeting Mi. um 10 Uhr. Das Paket kommt am Do. zw. 10–14 Uhr. Bis Fr.",
        "Teammeeting Mittwoch um zehn Uhr. Das Paket kommt am Donnerstag zwischen zehn und vierzehn Uhr. Bis Freitag.",
        "Teammeeting Mittwoch um 10 Uhr. Das Paket kommt am Donnerstag zwischen 10 und 14 Uhr. Bis Freitag.",
    ),
    (
        "a day before at",
        "en_US",
        "The call is on Wed. at 3 PM. The Sun is out on Wed.",
        "The call is on Wednesday at three p m. The Sun is out on Wed.",
        None,
    ),
    # A match's minute after "the" was a length ("scored in the sixty-seven feet").
    (
        "a match's minute",
        "en_US",
        "Saka scored in the 67'. Then in the 90', by the 6' fence; it is 6' tall.",
        "Saka scored in the sixty-seventh minute. Then in the ninetieth minute, by the six foot fence; it is six feet "
        "tall.",
        None,
    ),
    # A blood pressure was left as written ("120/80 mmHg").
    (
        "a blood pressure",
        "en_US",
        "Your BP was 120/80 mmHg. Blood pressure: 135/85. It runs 24/7.",
        "Your BP was one hundred and twenty over eighty millimeters of mercury. Blood pressure: one hundred and "
        "thirty-five over eighty-five. It runs twenty-four seven.",
        None,
    ),
    (
        "a blood pressure",
        "de",
        "Dein Blutdruck war 120/80 mmHg, gestern 130/85.",
        "Dein Blutdruck war einhundertzwanzig zu achtzig Millimeter Quecksilbersäule, gestern 130/85.",
        None,
    ),
    # A price per dozen or pack was left as written ("$3.99/dozen").
    (
        "a price per dozen",
        "en_US",
        "Eggs are $3.99/dozen and soda $6.49/pack.",
        "Eggs are three dollars and ninety-nine cents per dozen and soda six dollars and forty-nine cents per pack.",
        None,
    ),
    (
        "a price per dozen",
        "de",
        "Butter kostet 1,99 €/Packung, Eier 3,49 €/Dutzend.",
        "Butter kostet ein Euro neunundneunzig pro Packung, Eier drei Euro neunundvierzig pro Dutzend.",
        None,
    ),
    # Travel's, schedules' and interest rates' short forms were read as words or spelled ("ri", "pe a").
    (
        "travel and finance abbreviations",
        "de",
        "Über die A9 Ri. München. Das Paket kommt voraussichtl. am Do. Der Kredit läuft mit 3,5 % p. a. Die Rate "
        "ist tägl. fällig, mind. 5 €, ggü. dem Vorjahr.",
        "Über die A9 Richtung München. Das Paket kommt voraussichtlich am Donnerstag. Der Kredit läuft mit drei Komma "
        "fünf Prozent pro Jahr. Die Rate ist täglich fällig, mindestens fünf Euro, gegenüber dem Vorjahr.",
        None,
    ),
    # A number after a word and a hyphen reached an engine that reads no digits as one ("two-for-4", "COVID-19").
    (
        "a number after a word's hyphen",
        "en_US",
        "Ohtani went 2-for-4 in a best-of-7 series; COVID-19 peaked by mid-2024; T-10 minutes, range 5-10.",
        "Ohtani went two-for-four in a best-of-seven series; COVID-nineteen peaked by mid-twenty twenty-four; T minus "
        "ten minutes, range five to ten.",
        "Ohtani went 2-for-4 in a best-of-7 series; COVID-19 peaked by mid-2024; T minus 10 minutes, range 5 to 10.",
    ),
    (
        "a number after a word's hyphen",
        "de",
        "COVID-19 ist weg, der Golf-8 fährt.",
        "COVID-neunzehn ist weg, der Golf-acht fährt.",
        "COVID-19 ist weg, der Golf-8 fährt.",
    ),
    # A forecast's, a game's and a disk's units were left as written ("inHg", "yds", "GiB", "Mb or s").
    (
        "pressure, yards, bytes",
        "en_US",
        "Pressure 30.12 inHg; he had 112 yds and a 40-yd run. The file is 1.2 GiB, VOC 150 ppb, upload 40 Mb/s.",
        "Pressure thirty point one two inches of mercury; he had one hundred and twelve yards and a forty-yard run. "
        "The file is one point two gibibytes, VOC one hundred and fifty parts per billion, upload forty megabits per "
        "second.",
        None,
    ),
    (
        "pressure, yards, bytes",
        "de",
        "Die Datei hat 1,2 GiB, Upload 40 Mb/s.",
        "Die Datei hat eins Komma zwei Gibibyte, Upload vierzig Megabit pro Sekunde.",
        None,
    ),
    # The dot of a short form before the noun it qualifies ended the sentence ("gegenüber." / "Vorjahr.").
    (
        "a short form before its noun",
        "de",
        "Inflation 2,2 % ggü. Vorjahr, bei 65 % rel. Luftfeuchte, mind. Zwei Tage. Gut.",
        "Inflation zwei Komma zwei Prozent gegenüber Vorjahr, bei fünfundsechzig Prozent rel. Luftfeuchte, mindestens "
        "Zwei Tage. Gut.",
        "Inflation zwei Komma zwei Prozent gegenüber Vorjahr, bei fünfundsechzig Prozent rel. Luftfeuchte, mindestens "
        "Zwei Tage. Gut.",
    ),
    # A recipe's "Pers." was read as a word ("pers") and "Pers.:" lost its colon.
    (
        "persons",
        "de",
        "Für 4 Pers.: 500 g Nudeln. Für 1 Pers. reicht das. Für 2 Pers. Dann kochen.",
        "Für vier Personen: fünfhundert Gramm Nudeln. Für eine Person reicht das. Für zwei Personen. Dann kochen.",
        None,
    ),
    # A slash with spaces between a forecast's parts reached the engine, which said "slash".
    (
        "a spaced slash between parts",
        "en_US",
        "Tomorrow: High 72°F / Low 55°F. Either A / B.",
        "Tomorrow: High seventy-two degrees Fahrenheit, Low fifty-five degrees Fahrenheit. Either A / B.",
        None,
    ),
    (
        "a spaced slash between parts",
        "de",
        "Morgen: Max. 12 °C / Min. 3 °C.",
        "Morgen: Maximal zwölf Grad Celsius, Mindestens drei Grad Celsius.",
        None,
    ),
    # Two measures of one unit either side of a slash: the first unit was left ("sixteen GB/256GB").
    (
        "two measures either side of a slash",
        "en_US",
        "It starts at $999 (16GB/256GB); speed 50 km/h.",
        "It starts at nine hundred and ninety-nine dollars (sixteen gigabytes, two hundred and fifty-six gigabytes); "
        "speed fifty kilometers per hour.",
        None,
    ),
    (
        "two measures either side of a slash",
        "de",
        "Das Modell hat 16 GB/512 GB.",
        "Das Modell hat sechzehn Gigabyte, fünfhundertzwölf Gigabyte.",
        None,
    ),
    # A time zone or a day after a pm written against its number was left ("three p m PT", "6pm Sun").
    (
        "a zone after 3pm",
        "en_US",
        "Moved to 2–3pm PT, or 6pm Sun; the map PT stays.",
        "Moved to two to three p m P T, or six p m Sunday; the map PT stays.",
        "Moved to 2 to three p m P T, or six p m Sunday; the map PT stays.",
    ),
    # A PIN or a passcode was read as a count ("four thousand eight hundred and twenty-one").
    (
        "a PIN digit by digit",
        "en_US",
        "Dial-in PIN 4821#. Your passcode is 123456. Pin 3 photos.",
        "Dial-in PIN four eight two one. Your passcode is one two three four five six. Pin three photos.",
        "Dial-in PIN four eight two one. Your passcode is one two three four five six. Pin 3 photos.",
    ),
    (
        "a PIN digit by digit",
        "de",
        "Die PIN ist 4821, die PIN lautet 0815.",
        "Die PIN ist vier acht zwei eins, die PIN lautet null acht eins fünf.",
        None,
    ),
    # A rate's basis points were spelled ("b p s").
    (
        "basis points",
        "en_US",
        "The Fed cut rates by 25 bps to 4.25–4.50%; the 10-yr yield is 4.1%.",
        "The Fed cut rates by twenty-five basis points to four point two five to four point five zero percent; the "
        "ten-year yield is four point one percent.",
        "The Fed cut rates by twenty-five basis points to 4.25 to four point five zero percent; the ten-year yield is "
        "four point one percent.",
    ),
    # A trillion after a currency was glued to the cents ("three dollars and fifty centsT").
    (
        "a trillion",
        "en_US",
        "Market cap ~$3.5T, debt $1.2tn; the 5T truck.",
        "Market cap about three point five trillion dollars, debt one point two trillion dollars; the five T truck.",
        "Market cap about three point five trillion dollars, debt one point two trillion dollars; the 5T truck.",
    ),
    # An arrow up or down before a number was dropped, and the direction of the change with it.
    (
        "a rise or a fall",
        "en_US",
        "Use 412 kWh (↑8% vs. last month); AAPL ▲ 0.3%, BTC ▼2.1%. Scroll ↓ to see.",
        "Use four hundred and twelve kilowatt hours (up eight percent versus last month); AAPL up zero point three "
        "percent, BTC down two point one percent. Scroll to see.",
        None,
    ),
    (
        "a rise or a fall",
        "de",
        "Verbrauch 412 kWh (↑8 % ggü. Vormonat), DAX ▼ 0,4 %.",
        "Verbrauch vierhundertzwölf Kilowattstunden (plus acht Prozent gegenüber Vormonat), DAX minus null Komma vier "
        "Prozent.",
        None,
    ),
    # A shopping list's and a workout's short forms were spelled ("p k g", "M S P", "W D H").
    (
        "packages, pinches, reps",
        "en_US",
        "Added 1 pkg tortillas and 2 pkgs rice.",
        "Added one package tortillas and two packages rice.",
        None,
    ),
    (
        "packages, pinches, reps",
        "de",
        "Füge 2 Pkg. Hefe und 3 Msp. Muskat hinzu. Mach 10 Wdh. Dann Pause.",
        "Füge zwei Packungen Hefe und drei Messerspitzen Muskat hinzu. Mach zehn Wiederholungen. Dann Pause.",
        None,
    ),
    # A run's time past a day's hours was left as written ("42:17"), a pace per "min/km" read as a time of day.
    (
        "a run's time and pace",
        "en_US",
        "Run: 5.2 mi in 42:17, pace 8:08/mi, at 9:30.",
        "Run: five point two miles in forty-two minutes seventeen seconds, pace eight minutes eight seconds per mile, "
        "at nine thirty.",
        None,
    ),
    (
        "a run's time and pace",
        "de",
        "Dein Lauf: 10,2 km in 52:31 min, Ø-Pace 5:09 min/km.",
        "Dein Lauf: zehn Komma zwei Kilometer in zweiundfünfzig Minuten einunddreißig Sekunden, Ø-Pace fünf Minuten "
        "neun Sekunden pro Kilometer.",
        None,
    ),
    # A fixture's "gg." was spelled and its dot ended the sentence ("ge ge." / "Union").
    (
        "a fixture's against",
        "de",
        "Am So. spielt der FC um 15:30 Uhr gg. Union (Sky/DAZN).",
        "Am Sonntag spielt der FC um fünfzehn Uhr dreißig gegen Union (Sky oder DAZN).",
        None,
    ),
    # Calories, a car's mileage and a washer's spin were left as written ("cal", "m p g", "U oder min").
    (
        "calories, mileage, spin",
        "en_US",
        "Per serving: 320 cal, 12g fat. You get 32 mpg.",
        "Per serving: three hundred and twenty calories, twelve grams fat. You get thirty-two miles per gallon.",
        None,
    ),
    (
        "calories, mileage, spin",
        "de",
        "Fertig (40 °C Baumwolle, 1.400 U/min).",
        "Fertig (vierzig Grad Celsius Baumwolle, eintausendvierhundert Umdrehungen pro Minute).",
        None,
    ),
    # A day with its dot before "geschlossen", "closed" was left ("So." "zo").
    (
        "a day before closed",
        "de",
        "Das Angebot gilt Mo.–Sa. bis 20 Uhr, So. geschlossen.",
        "Das Angebot gilt Montag bis Samstag bis zwanzig Uhr, Sonntag geschlossen.",
        "Das Angebot gilt Montag bis Samstag bis 20 Uhr, Sonntag geschlossen.",
    ),
    ("a day before closed", "en_US", "Open Mon.–Sat., Sun. closed.", "Open Monday to Saturday, Sunday closed.", None),
    # A German ordinal before a noun with no article was a cardinal with its dot ("vierzehn. Spieltag": a pause).
    (
        "an ordinal with no article",
        "de",
        "Bundesliga, 14. Spieltag: Bayern holt sein 3. Tor und seinen 2. Titel, sie wird 2. Siegerin in der 3. Liga.",
        "Bundesliga, vierzehnter Spieltag: Bayern holt sein drittes Tor und seinen zweiten Titel, sie wird zweite "
        "Siegerin in der dritten Liga.",
        None,
    ),
    # A German score of two digits a side was left as written ("98:54"), and so was a run's time after "in".
    (
        "a score past a day's hours",
        "de",
        "Alba gewinnt 98:54, Kiel 31:28; sie lief in 42:17.",
        "Alba gewinnt achtundneunzig zu vierundfünfzig, Kiel einunddreißig zu achtundzwanzig; sie lief in "
        "zweiundvierzig Minuten siebzehn Sekunden.",
        "Alba gewinnt 98 zu 54, Kiel 31 zu 28; sie lief in zweiundvierzig Minuten siebzehn Sekunden.",
    ),
    # A goal's minute was feet ("Saka twelve feet", "ninety plus three feet"), or a number and its dot ("zwölf.").
    (
        "goals' minutes",
        "en_US",
        "Arsenal 2–1 Chelsea (Saka 12', Havertz 90+3'). Salah scored in the 90+3'. The room is 12' wide.",
        "Arsenal two to one Chelsea (Saka twelfth minute, Havertz ninetieth minute plus three). Salah scored in the "
        "ninetieth minute plus three. The room is twelve feet wide.",
        "Arsenal 2 to 1 Chelsea (Saka twelfth minute, Havertz ninetieth minute plus three). Salah scored in the "
        "ninetieth minute plus three. The room is twelve feet wide.",
    ),
    (
        "goals' minutes",
        "de",
        "Bayern – Dortmund 2:1 (Müller 12., Kane 45.+2). Tore: 0:2 Adeyemi (78.).",
        "Bayern – Dortmund zwei zu eins (Müller zwölfte Minute, Kane fünfundvierzigste Minute plus zwei). Tore: null "
        "zu zwei Adeyemi (achtundsiebzigste Minute).",
        "Bayern – Dortmund 2 zu 1 (Müller zwölfte Minute, Kane fünfundvierzigste Minute plus zwei). Tore: 0 zu 2 "
        "Adeyemi (achtundsiebzigste Minute).",
    ),
    # A score's 1 before a name was taken for a count of it on the numbers path ("1 zu einer Kane").
    (
        "a score before a name",
        "de",
        "Tore: 1:1 Kane, 3:1 Bayern.",
        "Tore: eins zu eins Kane, drei zu eins Bayern.",
        "Tore: 1 zu eins Kane, 3 zu eins Bayern.",
    ),
    # "u." and "est." were spelled and their dot ended a sentence ("Kaffee u." / "Kuchen", "est." / "1892.").
    (
        "und",
        "de",
        "Kaffee u. Kuchen ab 15 Uhr, u. a. in Köln.",
        "Kaffee und Kuchen ab fünfzehn Uhr, unter anderem in Köln.",
        "Kaffee und Kuchen ab 15 Uhr, unter anderem in Köln.",
    ),
    (
        "established, estimated",
        "en_US",
        "Acme, est. 1892, reports Thu. EPS est. $0.75. It opens 8 PM EST. Then we eat.",
        "Acme, established eighteen ninety-two, reports Thursday EPS estimated seventy-five cents. It opens eight p m "
        "E S T. Then we eat.",
        None,
    ),
    # "min." and "max." before a number were read "min", "max" with a pause; after a number "min." stays minutes.
    (
        "bounds",
        "de",
        "Heute min. 5 Grad, max. 12 Grad; ziehen lassen: 5 min.",
        "Heute mindestens fünf Grad, maximal zwölf Grad; ziehen lassen: fünf Minuten.",
        "Heute mindestens 5 Grad, maximal 12 Grad; ziehen lassen: fünf Minuten.",
    ),
    (
        "bounds",
        "en_US",
        "Use max. 2 cups, min. 5 minutes.",
        "Use maximum two cups, minimum five minutes.",
        "Use maximum 2 cups, minimum 5 minutes.",
    ),
    # A main station and a betting line's total were spelled ("Hbf" "ha be ef", "O/U" "O or U").
    (
        "short forms without a dot",
        "de",
        "Der ICE fährt ab Köln Hbf. um 8 Uhr nach Berlin Hbf.",
        "Der ICE fährt ab Köln Hauptbahnhof um acht Uhr nach Berlin Hauptbahnhof.",
        "Der ICE fährt ab Köln Hauptbahnhof um 8 Uhr nach Berlin Hauptbahnhof.",
    ),
    (
        "short forms without a dot",
        "en_US",
        "Chiefs by 3, O/U 47.",
        "Chiefs by three, over under forty-seven.",
        "Chiefs by 3, over under 47.",
    ),
    # A stock's ratio and change were read "P or E" and "yoy".
    (
        "a stock's short forms",
        "en_US",
        "P/E (TTM): 56.3x; EPS $0.84 vs. $0.49 YoY.",
        "P E (TTM): fifty-six point three times; EPS eighty-four cents versus forty-nine cents year over year.",
        None,
    ),
    # A tennis set's tiebreak was read against the score ("seven to six(five)").
    (
        "a tiebreak",
        "en_US",
        "Sinner won 7–6(5), 6–4, 6–7 (3).",
        "Sinner won seven to six (tiebreak five), six to four, six to seven (tiebreak three).",
        "Sinner won 7 to 6 (tiebreak 5), 6 to 4, 6 to 7 (tiebreak 3).",
    ),
    (
        "a tiebreak",
        "de",
        "Zverev gewinnt 7:6 (5).",
        "Zverev gewinnt sieben zu sechs (Tiebreak fünf).",
        "Zverev gewinnt 7 zu 6 (Tiebreak 5).",
    ),
    # "K" of thousands was glued to a year ("twelve thirty-fourK rows") or spelled ("twelve K users").
    (
        "thousands",
        "en_US",
        "It has 1234K rows and 12K users; a 4K video, a 5K run.",
        "It has one thousand two hundred and thirty-four thousand rows and twelve thousand users; a four K video, a "
        "five K run.",
        "It has one thousand two hundred and thirty-four thousand rows and twelve thousand users; a 4K video, a 5K "
        "run.",
    ),
    # A count of four digits before a plural noun was read as a year ("twelve thirty-four rows").
    (
        "a count, not a year",
        "en_US",
        "The table has 1234 rows; climb 1850 meters; in 1999 sales rose.",
        "The table has one thousand two hundred and thirty-four rows; climb one thousand eight hundred and fifty "
        "meters; in nineteen ninety-nine sales rose.",
        "The table has 1234 rows; climb 1850 meters; in nineteen ninety-nine sales rose.",
    ),
    # A day and month before a noun ended the sentence ("am einunddreißigsten Dezember." / "Silvester.").
    (
        "a date before a noun",
        "de",
        "Wir feiern am 31.12. Silvester, am 1.5. Tag der Arbeit. Offen bis 30.4. Dann ist Pause. Am 24.12. Frohe "
        "Weihnachten!",
        "Wir feiern am einunddreißigsten Dezember Silvester, am ersten Mai Tag der Arbeit. Offen bis zum dreißigsten "
        "April. Dann ist Pause. Am vierundzwanzigsten Dezember. Frohe Weihnachten!",
        None,
    ),
    # A unit's dot before a recipe's verb ended no sentence ("fünfundzwanzig Minuten Ergibt zwölf Stück").
    (
        "a recipe's verb after a unit's dot",
        "de",
        "Backe 20–25 Min. Ergibt 12 Stück. Koche 3 Std. Serviere warm.",
        "Backe zwanzig bis fünfundzwanzig Minuten. Ergibt zwölf Stück. Koche drei Stunden. Serviere warm.",
        "Backe 20 bis fünfundzwanzig Minuten. Ergibt 12 Stück. Koche drei Stunden. Serviere warm.",
    ),
    # A measure made an adjective before a capitalised word kept its short form ("ten-yr Treasury").
    (
        "a measure made an adjective before a name",
        "en_US",
        "The 10-yr Treasury yield fell; a 5-min walk.",
        "The ten-year Treasury yield fell; a five-minute walk.",
        None,
    ),
    # A forecast's low and high before one degree sign were left as written ("0/4 °C").
    (
        "a low and a high",
        "de",
        "Fr.: 0/4 °C, Sa.: −2/3 °C.",
        "Freitag: null bis vier Grad Celsius, Samstag: minus zwei bis drei Grad Celsius.",
        "Freitag: 0 bis vier Grad Celsius, Samstag: −2 bis drei Grad Celsius.",
    ),
    (
        "a low and a high",
        "en_US",
        "Fri: 29/42°F, then -5/-1°C.",
        "Friday: twenty-nine to forty-two degrees Fahrenheit, then minus five to minus one degree Celsius.",
        "Friday: 29 to forty-two degrees Fahrenheit, then -5 to minus one degree Celsius.",
    ),
    # Made of tried was left ("28/41") or a fraction ("seven ninths free throws").
    (
        "so many of so many",
        "en_US",
        "He went 28/41; she made 7/9 free throws; add 2/3 cups flour.",
        "He went twenty-eight of forty-one; she made seven of nine free throws; add two thirds cups flour.",
        None,
    ),
    ("so many of so many", "de", "Er traf 28/41 Würfe.", "Er traf achtundzwanzig von einundvierzig Würfe.", None),
    # A market's price per barrel or share was left as written, or "oder Barrel".
    (
        "a price per barrel",
        "de",
        "Brent kostet 73,40 $/Barrel, die Dividende 2,20 €/Aktie.",
        "Brent kostet dreiundsiebzig Dollar vierzig pro Barrel, die Dividende zwei Euro zwanzig pro Aktie.",
        None,
    ),
    (
        "a price per barrel",
        "en_US",
        "Brent is $73.40/barrel.",
        "Brent is seventy-three dollars and forty cents per barrel.",
        None,
    ),
    # A decimal without its zero was glued to the word before and left ("batting.311").
    (
        "a decimal without its zero",
        "en_US",
        "He's batting .311 with a .402 OBP, a .45 caliber.",
        "He's batting three eleven with a four oh two OBP, a point four five caliber.",
        None,
    ),
    # A result's "d." was spelled and cut the sentence ("Sinner d." / "Alcaraz"); an initial stays.
    (
        "defeated",
        "en_US",
        "Sinner d. Alcaraz 6–4; Mozart d. 1791. John D. Rockefeller took vitamin D. Then he slept.",
        "Sinner defeated Alcaraz six to four; Mozart died seventeen ninety-one. John D. Rockefeller took vitamin D. "
        "Then he slept.",
        "Sinner defeated Alcaraz 6 to 4; Mozart died seventeen ninety-one. John D. Rockefeller took vitamin D. Then "
        "he slept.",
    ),
    # A German day with its dot before a capitalised word was left ("Mi." "em i"); "Fr. Müller" is Frau.
    (
        "a day before a noun",
        "de",
        "Termine: Mi. EZB-Zinsentscheid, Sa. Training; Fr. Müller kommt.",
        "Termine: Mittwoch. EZB-Zinsentscheid, Samstag. Training; Fr. Müller kommt.",
        None,
    ),
    # A size with its mark on the last side only kept the plural before a noun ("a nine by five inches loaf pan").
    (
        "a size before a noun",
        "en_US",
        'Pour into a 9x5" loaf pan; it is 9x5" wide.',
        "Pour into a nine by five inch loaf pan; it is nine by five inches wide.",
        "Pour into a 9 by five inch loaf pan; it is 9 by five inches wide.",
    ),
    # A US retirement plan was a count and a letter in brackets ("four hundred and one(k)").
    (
        "a 401(k)",
        "en_US",
        "Your 401(k) balance is up; max out your 403(b).",
        "Your four oh one k balance is up; max out your four oh three b.",
        None,
    ),
    # A number's short form in a compound ("Sendungsnr.") was cut from its number as a list's item, and spelled
    # ("zˈɛndʊŋsnɾ"); "n. V." after a score was cut in two, "zw." spelled ("zett we").
    (
        "a number's compound, a score's extra time",
        "de",
        "Dein Paket (Sendungsnr. 0034043416) kommt zw. 10 und 14 Uhr. Es endete 1:0 n. V. für Leverkusen, 3:2 n.E.",
        "Dein Paket (Sendungsnummer null null drei vier null vier drei vier eins sechs) kommt zwischen zehn und "
        "vierzehn Uhr. Es endete eins zu null nach Verlängerung für Leverkusen, drei zu zwei nach Elfmeterschießen.",
        "Dein Paket (Sendungsnummer null null drei vier null vier drei vier eins sechs) kommt zwischen 10 und 14 "
        "Uhr. Es endete 1 zu 0 nach Verlängerung für Leverkusen, 3 zu 2 nach Elfmeterschießen.",
    ),
]


@pytest.mark.parametrize("reads_numbers", [False, True], ids=["words", "reads-numbers"])
@pytest.mark.parametrize(("rule", "language", "written", "words", "read"), HOME, ids=[f"{c[1]}-{c[0]}" for c in HOME])
def test_home_assistants_answers(rule, language, written, words, read, reads_numbers):
    expected = read if reads_numbers and read is not None else words
    assert said(written, language, reads_numbers=reads_numbers) == expected
    assert " ".join(spoken(written, language, step=3, reads_numbers=reads_numbers)) == expected


@pytest.mark.parametrize("step", [None, 3], ids=["whole", "streamed"])
def test_a_numbers_compound_a_scores_extra_time_and_a_time_zone_end_no_sentence(step):
    # "Sendungsnr." before its number was taken for a sentence and the number for a list's item; "n. V." was cut,
    # and "p.m." before a time zone.
    written = "Paket (Sendungsnr. 0034) kommt zw. 10 und 14 Uhr. Es endete 1:0 n. V. für Leverkusen. Gut."
    assert len(spoken(written, "de", step=step, reads_numbers=True)) == 3
    written = "Tickets gibt es ab 25 € p. P. und für Kinder ab 10 €. Gut."
    assert spoken(written, "de", step=step, reads_numbers=True) == [
        "Tickets gibt es ab fünfundzwanzig Euro pro Person und für Kinder ab zehn Euro.",
        "Gut.",
    ]
    written = "It is at 4:25 p.m. ET on CBS. It ends at 7 p.m. Then the news."
    assert len(spoken(written, step=step, reads_numbers=True)) == 3
