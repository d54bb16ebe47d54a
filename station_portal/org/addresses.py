"""Addresses of the service area (地址): a gazetteer of districts and counties (区/县), their
towns (镇/乡) and their streets, roads and villages, and the resolver that turns a
customer's address into a point and so into the station or grid that owns it.

The gazetteer is data (``data/demo_city/streets.toml``): each street is a line of
``[lat, lon]`` points with the house numbers it carries, first to last, spread evenly
along it. :meth:`Gazetteer.resolve` reads an address as customers write it — in one line
("吉林市昌邑区重庆街8号", "昌邑区 重庆街 8号") or as district, street and number given
separately — forgiving full-width digits, spaces and the road suffix (重庆路 finds 重庆街),
and interpolates the number along the street. What it cannot place it refuses with
:class:`AddressNotFound`: a message naming what was not found, with close names.
:func:`locate` adds the unit whose territory holds the point.

Pure: no Flask, no database (the caller passes a ``TerritoryIndex``).
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass

from station_portal.datafiles import DataFile, read_text
from station_portal.i18n import _, get_locale
from station_portal.org.territory import RoutedUnit, TerritoryIndex, check_location

# Longest first: 大街 before 街. A street named with one is found by the others too.
STREET_SUFFIXES = ("大街", "大路", "胡同", "路", "街", "道", "巷")
# Where a typed street name ends, for naming it in a message.
_TYPED_STREET_RE = re.compile(r"^(.{1,20}?(?:大街|大路|胡同|路|街|道|巷|村|屯|里|弄))")
_SUBDISTRICT_RE = re.compile(r"^[^\d号]{1,8}?街道(?=.)")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMBER_RE = re.compile(r"^第?(?:(\d{1,6})|([零〇一二两三四五六七八九十百千]{1,8})(?=号|$))")
_DROP_RE = re.compile(r"[\s,;:()\[\]<>\"'、。；：（）【】“”‘’·・]")
MAX_LENGTH = 200
SUGGESTIONS = 3


class AddressNotFound(ValueError):
    """The address names something the gazetteer does not know (or too little to place it).

    ``field`` is the form field to mark; ``suggestions`` are close names, best first."""

    def __init__(self, message: str, field: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.suggestions = suggestions


@dataclass(frozen=True)
class Street:
    """A street, road or village: its line of (lat, lon) points and the numbers along it."""

    name: str
    district: str
    town: str
    first: int
    last: int
    line: tuple[tuple[float, float], ...]

    @property
    def key(self) -> str:
        return street_key(self.name)

    def variants(self) -> set[str]:
        """How a customer may write the name: as it is, or with another road suffix."""
        if self.key == self.name:
            return {self.name}
        return {self.name} | {self.key + suffix for suffix in STREET_SUFFIXES}

    def has(self, number: int) -> bool:
        return min(self.first, self.last) <= number <= max(self.first, self.last)

    def point_at(self, number: int | None) -> tuple[float, float]:
        """Where the number lies along the street (its middle without a number)."""
        fraction = 0.5 if number is None or self.first == self.last \
            else (number - self.first) / (self.last - self.first)
        kx = math.cos(math.radians(self.line[0][0]))
        lengths = [math.hypot((b[1] - a[1]) * kx, b[0] - a[0])
                   for a, b in zip(self.line, self.line[1:], strict=False)]
        left = max(0.0, min(1.0, fraction)) * sum(lengths)
        for (a, b), length in zip(zip(self.line, self.line[1:], strict=False), lengths,
                                  strict=True):
            if left <= length:
                t = left / length if length else 0.0
                return (round(a[0] + (b[0] - a[0]) * t, 6), round(a[1] + (b[1] - a[1]) * t, 6))
            left -= length
        return self.line[-1]


@dataclass(frozen=True)
class Town:
    name: str
    aliases: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class District:
    name: str
    name_en: str
    county: str  # the county-level company serving it (``jilin.toml``)
    towns: tuple[Town, ...]
    streets: tuple[Street, ...]

    def spellings(self) -> tuple[str, ...]:
        """Its name, and the name without 区/县 ("昌邑")."""
        short = self.name[:-1] if self.name[-1:] in ("区", "县") and len(self.name) > 2 else ""
        return (self.name, short) if short else (self.name,)

    def label(self) -> str:
        return self.name if get_locale().startswith("zh") else f"{self.name} ({self.name_en})"


@dataclass(frozen=True)
class AddressMatch:
    """What an address was read as: the street found, the number, the point."""

    district: District
    street: Street
    number: int | None
    lat: float
    lon: float
    typed: str  # the street as the customer wrote it
    exact: bool  # the street's name as written (not through another suffix)

    def label(self) -> str:
        """"昌邑区重庆街8号", "永吉县岔路河镇黄榆村" (the town only for its streets)."""
        number = f"{self.number}号" if self.number is not None else ""
        return f"{self.district.name}{self.street.town}{self.street.name}{number}"


@dataclass(frozen=True)
class Located:
    """An address resolved to a point and to the unit whose territory holds it (None:
    outside every territory)."""

    match: AddressMatch
    unit: RoutedUnit | None

    @property
    def lat(self) -> float:
        return self.match.lat

    @property
    def lon(self) -> float:
        return self.match.lon


# -- reading text -------------------------------------------------------------------------

def normalise(text: object) -> str:
    """Full-width letters, digits and spaces made plain (NFKC); spaces and punctuation out."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text[:MAX_LENGTH])
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    return _DROP_RE.sub("", text)


def street_key(name: str) -> str:
    """A street's name without its road suffix: 重庆街, 重庆路 and 重庆大街 → 重庆."""
    for suffix in STREET_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def chinese_number(text: str) -> int | None:
    """"八" → 8, "十二" → 12, "一百零五" → 105, "二〇八" → 208; None if not a number."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    if not any(ch in _CN_UNITS for ch in text):  # digit by digit: 二〇八
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return total + (digit or 0)


def leading_number(text: str) -> tuple[int | None, str]:
    """The house number at the start of ``text`` ("8号", "８", "第8号", "十二号") and the rest."""
    found = _NUMBER_RE.match(text)
    if not found:
        return None, text
    number = int(found.group(1)) if found.group(1) else chinese_number(found.group(2))
    return number, text[found.end():]


def house_number(text: object) -> int | None:
    """A house number typed on its own ("8", "8号", "８号", "No. 8", "8-2"), or None."""
    value = normalise(text)
    number, _rest = leading_number(value)
    if number is None:
        digits = re.search(r"\d{1,6}", value)
        number = int(digits.group()) if digits else None
    return number


# -- the gazetteer ------------------------------------------------------------------------

class Gazetteer:
    """The districts, towns and streets of the service area."""

    def __init__(self, districts: list[District], *, city: str = "", province: str = "") -> None:
        self.districts = {d.name: d for d in districts}
        self.city, self.province = city, province

    @classmethod
    def from_toml(cls, text: str, origin: str = "<streets>") -> Gazetteer:
        raw = tomllib.loads(text)
        districts = []
        for d in raw.get("district", []):
            towns = tuple(Town(t["name"], tuple(t.get("aliases", ()))) for t in d.get("town", []))
            streets = []
            for s in d.get("street", []):
                first, last = (int(n) for n in s["numbers"])
                line = tuple((float(p[0]), float(p[1])) for p in s["line"])
                if len(line) < 2 or first < 0 or last < 0:
                    raise ValueError(f"{origin}: {d['name']} {s['name']}: a line of two points "
                                     "or more and house numbers from 0 up")
                for lat, lon in line:
                    check_location(lat, lon)
                town = s.get("town", "")
                if town and town not in {t.name for t in towns}:
                    raise ValueError(f"{origin}: {s['name']} lies in {town}, not a town of "
                                     f"{d['name']}")
                streets.append(Street(s["name"], d["name"], town, first, last, line))
            districts.append(District(d["name"], d.get("name_en", d["name"]), d.get("county", ""),
                                      towns, tuple(streets)))
        return cls(districts, city=raw.get("city", ""), province=raw.get("province", ""))

    def streets(self) -> list[Street]:
        return [s for d in self.districts.values() for s in d.streets]

    def district(self, text: object) -> District | None:
        """The district named ``text`` ("昌邑区", "昌邑", " 昌 邑 区 "), or None."""
        value = normalise(text)
        return next((d for d in self.districts.values() if value in d.spellings()), None)

    # -- resolving --------------------------------------------------------------------

    def resolve(self, address: object = "", *, district: object = "", street: object = "",
                number: object = "") -> AddressMatch:
        """The point of an address given in one line (``address``) or in parts (``district``,
        ``street``, ``number``: the street wins over the line). Raises AddressNotFound."""
        by_parts = bool(normalise(street))
        fields = ("district", "street", "house_number") if by_parts else ("address",) * 3
        chosen = None
        if normalise(district):
            chosen = self.district(district)
            if chosen is None:
                raise self._unknown_district(district, fields[0])
        text = self._strip_city(normalise(street if by_parts else address))
        if not text:
            raise AddressNotFound(_("Give the street, road or village, and the house number."),
                                  fields[1])
        typed_number = None
        if by_parts and normalise(number):
            typed_number = house_number(number)
            if typed_number is None:
                raise AddressNotFound(_("Give the house number in digits, for example 8."),
                                      fields[2])
        match = self._find(text, chosen, fields, bare=by_parts)
        if typed_number is not None:
            match = self._at(match.district, match.street, typed_number, match.typed,
                             match.exact, fields[2])
        return match

    def _strip_city(self, text: str) -> str:
        for prefix in ("中国", self.province, self.city):
            if prefix and text.startswith(prefix):
                text = text[len(prefix):]
        return text

    def _readings(self, text: str, chosen: District | None
                  ) -> list[tuple[District | None, str, str]]:
        """The ways to read the start of ``text``: (district, town, rest), most specific first;
        a short district or town name may also begin a street's name (永吉大街)."""
        readings: list[tuple[District | None, str, str]] = []
        starts = [(d, text[len(d.name):]) for d in self.districts.values()
                  if text.startswith(d.name)]
        if not starts:  # a short name (永吉) may also begin a street's name (永吉大街)
            short = [(d, text[len(spelling):]) for d in self.districts.values()
                     for spelling in d.spellings()[1:] if text.startswith(spelling)]
            starts = short + [(d, text) for d, _rest in short] + [(chosen, text)]
        for d, rest in starts:
            for candidate in ([d] if d is not None else list(self.districts.values())):
                for town in candidate.towns:
                    for spelling in town.spellings():
                        if rest.startswith(spelling):
                            readings.append((candidate, town.name, rest[len(spelling):]))
            readings.append((d, "", rest))
        return list(dict.fromkeys(readings))

    def _find(self, text: str, chosen: District | None, fields: tuple[str, str, str], *,
              bare: bool) -> AddressMatch:
        for district, town, rest in self._readings(text, chosen):
            hits = self._search(rest, district, town, bare=bare)
            if not hits:
                continue
            best = hits[0][0]
            same = [h for h in hits if h[0] == best]
            numbered = [h for h in same if h[3] is not None and h[1].has(h[3])]
            same = numbered or same  # 吉林大街 300号: the stretch that has No. 300
            places = {(h[1].district, h[1].town) for h in same}
            if len(places) > 1:
                raise self._ambiguous(same[0][1], sorted(places), fields[0])
            _score, street, typed, number = same[0]
            return self._at(self.districts[street.district], street, number, typed,
                            typed == street.name, fields[2])
        raise self._not_found(text, chosen, fields[1])

    def _search(self, text: str, district: District | None, town: str, *, bare: bool
                ) -> list[tuple[tuple, Street, str, int | None]]:
        """The streets whose name (or another suffix of it) occurs in ``text``, best first:
        followed by a number, as written, longest, earliest."""
        streets = district.streets if district is not None else tuple(self.streets())
        if town:
            streets = tuple(s for s in streets if s.town == town)
        hits = []
        for street in streets:
            spellings = street.variants() | ({street.key} if street.key != street.name else set())
            for spelling in spellings:
                at = text.find(spelling)
                if at < 0:
                    continue
                after = text[at + len(spelling):]
                if spelling.endswith("街") and after.startswith("道"):
                    continue  # 延安街道: a sub-district office's area, not 延安街
                number, _rest = leading_number(after)
                if spelling == street.key and street.key != street.name and not (
                        bare and at == 0 and len(spelling) == len(text)) and number is None:
                    continue  # a bare 重庆 only before a number (or alone in the street field)
                score = (number is not None, spelling == street.name, len(spelling), -at)
                hits.append((score, street, spelling, number))
        hits.sort(key=lambda h: h[0], reverse=True)
        return hits

    def _at(self, district: District, street: Street, number: int | None, typed: str,
            exact: bool, field: str) -> AddressMatch:
        if number is not None and not street.has(number):
            raise AddressNotFound(_(
                "%(street)s has the numbers %(first)s to %(last)s. Check the number, or mark "
                "the place on the map.", street=street.name, first=min(street.first, street.last),
                last=max(street.first, street.last)), field)
        lat, lon = street.point_at(number)
        return AddressMatch(district, street, number, lat, lon, typed, exact)

    # -- refusals ---------------------------------------------------------------------

    def _unknown_district(self, typed: object, field: str) -> AddressNotFound:
        value = normalise(typed)
        names = [d.name for d in self.districts.values()]
        close = difflib.get_close_matches(value, names, n=SUGGESTIONS, cutoff=0.4)
        if close:
            return AddressNotFound(_("We do not know the district %(name)s. Did you mean: "
                                     "%(names)s?", name=value, names="、".join(close)),
                                   field, tuple(close))
        return AddressNotFound(_("We do not know the district %(name)s. Ours are: %(names)s.",
                                 name=value, names="、".join(names)), field, tuple(names))

    def _ambiguous(self, street: Street, places: list[tuple[str, str]],
                   field: str) -> AddressNotFound:
        where = tuple(f"{d}{t}" for d, t in places)
        return AddressNotFound(_("There is a %(street)s in %(places)s: say which district (or "
                                 "town).", street=street.name, places="、".join(where)),
                               field, tuple(f"{w}{street.name}" for w in where))

    def _not_found(self, text: str, chosen: District | None, field: str) -> AddressNotFound:
        readings = self._readings(text, chosen)
        district, town, rest = readings[0]
        typed = _typed_street(rest)
        if not typed:
            return AddressNotFound(_("Give the street, road or village, and the house number."),
                                   field)
        if district is not None:  # the same street in another district?
            elsewhere = [h[1] for h in self._search(rest, None, "", bare=True)]
            if elsewhere:
                names = tuple(dict.fromkeys(f"{s.district}{s.town}{s.name}" for s in elsewhere))
                return AddressNotFound(_(
                    "We did not find %(street)s in %(district)s. Did you mean: %(names)s?",
                    street=typed, district=district.name + town, names="、".join(names[:3])),
                    field, names[:3])
        pool = district.streets if district is not None else tuple(self.streets())
        if town:
            pool = tuple(s for s in pool if s.town == town) or pool
        names = tuple(dict.fromkeys(s.name for s in pool))
        close = _close(typed, names)
        where = district.name + town if district is not None else self.city or "?"
        if close:
            return AddressNotFound(_(
                "We did not find %(street)s in %(district)s. Did you mean: %(names)s?",
                street=typed, district=where, names="、".join(close)), field, close)
        return AddressNotFound(_(
            "We did not find %(street)s in %(district)s. Check the name, or mark the place on "
            "the map.", street=typed, district=where), field)


def _typed_street(rest: str) -> str:
    """The street as typed, for a message: up to its road suffix, else up to a number (after
    a sub-district office's area, 延安街道, if one comes first)."""
    rest = _SUBDISTRICT_RE.sub("", rest)
    found = _TYPED_STREET_RE.match(rest)
    if found:
        return found.group(1)
    return re.split(r"\d|号", rest, maxsplit=1)[0][:20]


def _close(typed: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """Close names: by the whole name, then by the name without its suffix."""
    close = difflib.get_close_matches(typed, names, n=SUGGESTIONS, cutoff=0.5)
    if len(close) < SUGGESTIONS:
        keys = {street_key(n): n for n in names}
        close += [keys[k] for k in difflib.get_close_matches(street_key(typed), list(keys),
                                                             n=SUGGESTIONS, cutoff=0.5)
                  if keys[k] not in close]
    return tuple(close[:SUGGESTIONS])


def locate(gazetteer: Gazetteer, index: TerritoryIndex, address: object = "", *,
           district: object = "", street: object = "", number: object = "") -> Located:
    """The address's point and the station or grid that owns it. Raises AddressNotFound."""
    match = gazetteer.resolve(address, district=district, street=street, number=number)
    return Located(match, index.route_location(match.lat, match.lon))


STREETS_FILE = DataFile("demo_city/streets.toml", read_text(Gazetteer.from_toml))


def gazetteer() -> Gazetteer:
    """The service area's gazetteer (``data/demo_city/streets.toml``), read once per change."""
    return STREETS_FILE.get()
