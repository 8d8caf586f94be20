"""Insurers that the platform can deliver rulings to, by code."""

KNOWN_INSURERS: dict[str, str] = {
    "PICC": "中国人民财产保险",
    "PAIC": "中国平安财产保险",
    "CPIC": "中国太平洋财产保险",
    "CLPC": "中国人寿财产保险",
    "CCIC": "中华联合财产保险",
    "TPIC": "太平财产保险",
    "SSAI": "阳光财产保险",
    "DBIC": "大地财产保险",
}
