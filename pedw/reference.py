"""Code lists shared by loaders, contracts and models: ISIC Rev.4 sections, size classes, sexes."""

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

# Groups of sections used by sector databases (GGDC Economic Transformation Database).
ISIC4_GROUPS: dict[str, str] = {
    "D+E": "Utilities (electricity, gas, water, waste)",
    "G+I": "Trade services (trade, accommodation and food)",
    "J+M+N": "Business services (information, professional, administrative)",
    "O+P+Q": "Government services (public administration, education, health)",
    "R+S+T+U": "Other services",
}

# ILOSTAT's broad sectors (ECO_SECTOR_AGR / IND / SER).
BROAD_SECTOR: dict[str, str] = {
    **dict.fromkeys("A", "agriculture"),
    **dict.fromkeys("BCDEF", "industry"),
    **dict.fromkeys("GHIJKLMNOPQRSTU", "services"),
    "D+E": "industry",
    **dict.fromkeys(["G+I", "J+M+N", "O+P+Q", "R+S+T+U"], "services"),
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
