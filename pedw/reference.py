"""Code lists shared by loaders, contracts and models: ISIC Rev.4 sections, size classes,
sexes, ILOSTAT's aggregates."""

from __future__ import annotations

ISIC4_SECTIONS: dict[str, str] = {
    "A": "Agriculture, forestry and fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam and air conditioning supply",
    "E": "Water supply; sewerage, waste management and remediation",
    "F": "Construction",
    "G": "Wholesale and retail trade; repair of motor vehicles",
    "H": "Transportation and storage",
    "I": "Accommodation and food service activities",
    "J": "Information and communication",
    "K": "Financial and insurance activities",
    "L": "Real estate activities",
    "M": "Professional, scientific and technical activities",
    "N": "Administrative and support service activities",
    "O": "Public administration and defence; compulsory social security",
    "P": "Education",
    "Q": "Human health and social work activities",
    "R": "Arts, entertainment and recreation",
    "S": "Other service activities",
    "T": "Activities of households as employers",
    "U": "Activities of extraterritorial organizations and bodies",
}

# Groups of sections used by sector databases (GGDC Economic Transformation Database; the
# GGDC 10-Sector Database's ISIC Rev.3.1 sectors, H+J and K+L+M+N).
ISIC4_GROUPS: dict[str, str] = {
    "D+E": "Utilities (electricity, gas, water, waste)",
    "G+I": "Trade services (trade, accommodation and food)",
    "H+J": "Transport, storage and communication (ISIC Rev.3.1 I)",
    "J+M+N": "Business services (information, professional, administrative)",
    "K+L+M+N": "Finance, insurance, real estate and business services (ISIC Rev.3.1 J+K)",
    "O+P+Q": "Government services (public administration, education, health)",
    "R+S+T+U": "Other services",
}

# ILOSTAT's broad sectors (ECO_SECTOR_AGR / IND / SER).
BROAD_SECTOR: dict[str, str] = {
    **dict.fromkeys("A", "agriculture"),
    **dict.fromkeys("BCDEF", "industry"),
    **dict.fromkeys("GHIJKLMNOPQRSTU", "services"),
    "D+E": "industry",
    **dict.fromkeys(["G+I", "H+J", "J+M+N", "K+L+M+N", "O+P+Q", "R+S+T+U"], "services"),
}


# Firm size classes by number of persons employed (ILO / World Bank Enterprise Survey cut-offs).
SIZE_CLASSES: dict[str, tuple[int, int | None]] = {
    "micro": (1, 9),
    "small": (10, 49),
    "medium": (50, 249),
    "large": (250, None),
}

SEX_CODES = ("SEX_T", "SEX_M", "SEX_F", "SEX_O")


def size_class_sql(employees: str) -> str:
    """SQL CASE expression classifying a column of persons employed into size classes."""
    return (
        f"CASE WHEN {employees} < 10 THEN 'micro' WHEN {employees} < 50 THEN 'small' "
        f"WHEN {employees} < 250 THEN 'medium' ELSE 'large' END"
    )


# Economies outside the current ISO 3166 list. Where publishers code one differently,
# ILOSTAT's code (KOS, CHA) becomes the World Bank's (XKX, CHI), under which WDI publishes its
# name, region and income group; both are valid codes in the contracts. The names are for
# codes pycountry does not know (current or historic).
ECONOMY_CODE_ALIASES = {"KOS": "XKX", "CHA": "CHI"}
ECONOMY_NAMES = {"XKX": "Kosovo", "CHI": "Channel Islands"}

# ILOSTAT's regional, income and other aggregates (ref_area codes), as published: every code
# of the ILOSTAT bulk and explorer downloads in ../shared/data/real (2022-2024 releases), with
# the label the explorer files give it (None: published in the bulk files without a label).
# A code outside this list is quarantined, never taken for an aggregate by its shape.
ILO_AGGREGATES: dict[str, str | None] = {
    "X01": "World",
    "X02": "World: Low income",
    "X03": "World: Lower-middle income",
    "X04": "World: Upper-middle income",
    "X05": "World: High income",
    "X06": "Africa",
    "X07": "Africa: Low income",
    "X08": "Africa: Lower-middle income",
    "X09": "Africa: Upper-middle income",
    "X10": "Northern Africa",
    "X11": "Northern Africa: Lower-middle income",
    "X12": None,
    "X13": "Sub-Saharan Africa",
    "X14": "Sub-Saharan Africa: Low income",
    "X15": "Sub-Saharan Africa: Lower-middle income",
    "X16": "Sub-Saharan Africa: Upper-middle income",
    "X17": "Central Africa",
    "X18": "Eastern Africa",
    "X19": "Southern Africa",
    "X20": "Western Africa",
    "X21": "Americas",
    "X23": "Americas: Lower-middle income",
    "X24": "Americas: Upper-middle income",
    "X25": "Americas: High income",
    "X26": "Latin America and the Caribbean",
    "X28": "Latin America and the Caribbean: Lower-middle income",
    "X29": "Latin America and the Caribbean: Upper-middle income",
    "X30": "Latin America and the Caribbean: High income",
    "X31": "Caribbean",
    "X32": "Central America",
    "X33": "South America",
    "X34": "Northern America",
    "X35": "Northern America: High income",
    "X36": "Arab States",
    "X37": "Arab States: Lower-middle income",
    "X38": "Arab States: Upper-middle income",
    "X39": "Arab States: High income",
    "X40": "Asia and the Pacific",
    "X41": "Asia and the Pacific: Low income",
    "X42": "Asia and the Pacific: Lower-middle income",
    "X43": "Asia and the Pacific: Upper-middle income",
    "X44": "Asia and the Pacific: High income",
    "X45": "Eastern Asia",
    "X47": None,
    "X48": "Eastern Asia: High income",
    "X49": "South-Eastern Asia and the Pacific",
    "X51": "South-Eastern Asia and the Pacific: Lower-middle income",
    "X52": "South-Eastern Asia and the Pacific: Upper-middle income",
    "X53": "South-Eastern Asia and the Pacific: High income",
    "X54": "South-Eastern Asia",
    "X55": "Pacific Islands",
    "X56": "Southern Asia",
    "X58": "Southern Asia: Lower-middle income",
    "X59": None,
    "X60": "Europe and Central Asia",
    "X61": "Europe and Central Asia: Lower-middle income",
    "X62": "Europe and Central Asia: Upper-middle income",
    "X63": "Europe and Central Asia: High income",
    "X64": "Northern, Southern and Western Europe",
    "X65": "Northern, Southern and Western Europe: Upper-middle income",
    "X66": "Northern, Southern and Western Europe: High income",
    "X67": "Northern Europe",
    "X68": "Southern Europe",
    "X69": "Western Europe",
    "X70": "Eastern Europe",
    "X72": "Eastern Europe: Upper-middle income",
    "X73": "Eastern Europe: High income",
    "X74": "Central Asia",
    "X75": "Central and Western Asia: Lower-middle income",
    "X76": "Central and Western Asia: Upper-middle income",
    "X77": "Central and Western Asia: High income",
    "X78": "Central and Western Asia",
    "X79": "Western Asia",
    "X82": "European Union 28",
    "X83": "G20",
    "X84": "ASEAN",
    "X85": "BRICS",
    "X87": "World excluding BRICS",
    "X88": "G7",
    "X89": "MENA",
    "X90": "Arab League",
    "X91": "CARICOM",
    "X92": "European Union 27",
    "X94": "Arab States: Low income",
    "X97": "APEC",
    "X98": None,
    "X99": None,
    "XA1": None,
}
