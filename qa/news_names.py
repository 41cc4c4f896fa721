"""Names news gives organisations and regions, in many languages, and their acronyms.

News asks about the bodies and regions it reports on by names that no letters link across
languages and that CLDR does not hold: "the GCC" is مجلس التعاون الخليجي, "the Security
Council" مجلس الأمن, "l'OTAN" الناتو, "ООН" الأمم المتحدة, "the Gulf" الخليج. Without them an
English question's GCC was spelled by likeness into whatever index word resembled it, and
the answer gate found it missing from the article that names the council on every line.
`qa.lexicon` adds these names to CLDR's, so the gate finds an organisation in an article by
its Arabic name. Ranking does not search them (`qa.coverage.named_in`): news names them
everywhere, so they set no article apart. Unlike a country's, such a name is made of common words
(مجلس "council", منظمة, تعاون, جامعة "university"), so the gate finds it only written whole
in the article (`qa.lexicon.Found.whole`): مجلس الوزراء and قوات الأمن are no مجلس الأمن. A
name that is also a generic one is left out ("General Assembly", مجلس التعاون alone).

An acronym is matched only as written, in capitals, never case-folded: the WHO is no
"who", the UN no French "un". The UN and the EU are CLDR territories already (every
locale names them in full); only their acronyms are added here.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Each organisation's names, Arabic ones first: the Arabic forms news writes (the lexicon
#: reads Arabic text by these alone), then what questions in other languages call it.
ORGANISATIONS: Mapping[str, tuple[str, ...]] = {
    "GCC": (
        "مجلس التعاون الخليجي", "مجلس التعاون لدول الخليج", "دول مجلس التعاون",
        "Gulf Cooperation Council", "Conseil de coopération du Golfe", "Consejo de Cooperación del Golfo",
        "Golf-Kooperationsrat", "Consiglio di cooperazione del Golfo", "Conselho de Cooperação do Golfo",
        "Körfez İşbirliği Konseyi", "海湾合作委员会", "海合会", "شورای همکاری خلیج فارس", "खाड़ी सहयोग परिषद",
    ),
    "UNSC": (
        "مجلس الأمن", "مجلس الأمن الدولي",
        "Security Council", "UN Security Council", "Conseil de sécurité", "Consejo de Seguridad",
        "Sicherheitsrat", "UN-Sicherheitsrat", "Consiglio di sicurezza", "Conselho de Segurança",
        "Совет Безопасности", "СБ ООН", "Güvenlik Konseyi", "安理会", "安全理事会", "شورای امنیت",
        "सुरक्षा परिषद",
    ),
    "ARAB_LEAGUE": (
        "جامعة الدول العربية", "الجامعة العربية",
        "Arab League", "League of Arab States", "Ligue arabe", "Liga Árabe", "Arabische Liga", "Lega araba",
        "Лига арабских государств", "Arap Birliği", "阿拉伯国家联盟", "阿盟", "اتحادیه عرب", "अरब लीग",
    ),
    "NATO": ("الناتو", "حلف شمال الأطلسي", "حلف شمال الأطلنطي", "ناتو", "Nato", "Североатлантический альянс", "北约"),
    "OPEC": ("أوبك", "منظمة الدول المصدرة للنفط", "Opec", "Organization of the Petroleum Exporting Countries", "欧佩克",
             "اوپک"),
    "IAEA": (
        "الوكالة الدولية للطاقة الذرية", "وكالة الطاقة الذرية",
        "International Atomic Energy Agency", "Agence internationale de l'énergie atomique",
        "Organismo Internacional de Energía Atómica", "Internationale Atomenergiebehörde",
        "Agenzia internazionale per l'energia atomica", "Agência Internacional de Energia Atômica",
        "Uluslararası Atom Enerjisi Ajansı", "国际原子能机构",
    ),
    "WHO": (
        "منظمة الصحة العالمية",
        "World Health Organization", "World Health Organisation", "Organisation mondiale de la santé",
        "Organización Mundial de la Salud", "Weltgesundheitsorganisation", "Organizzazione mondiale della sanità",
        "Organização Mundial da Saúde", "Всемирная организация здравоохранения", "Dünya Sağlık Örgütü",
        "世界卫生组织", "世卫组织", "विश्व स्वास्थ्य संगठन",
    ),
    "IMF": (
        "صندوق النقد الدولي", "صندوق النقد",
        "International Monetary Fund", "Fonds monétaire international", "Fondo Monetario Internacional",
        "Internationaler Währungsfonds", "Fondo monetario internazionale", "Fundo Monetário Internacional",
        "Международный валютный фонд", "Uluslararası Para Fonu", "国际货币基金组织", "صندوق بین‌المللی پول",
    ),
    "WORLD_BANK": (
        "البنك الدولي",
        "World Bank", "Banque mondiale", "Banco Mundial", "Weltbank", "Banca Mondiale", "Всемирный банк",
        "Dünya Bankası", "世界银行", "بانک جهانی", "विश्व बैंक",
    ),
    "OIC": (
        "منظمة التعاون الإسلامي",
        "Organisation of Islamic Cooperation", "Organization of Islamic Cooperation",
        "Organisation de la coopération islamique", "Organización para la Cooperación Islámica",
        "Organisation für Islamische Zusammenarbeit", "Организация исламского сотрудничества",
        "İslam İşbirliği Teşkilatı", "伊斯兰合作组织", "سازمان همکاری اسلامی",
    ),
    "AFRICAN_UNION": (
        "الاتحاد الأفريقي", "الاتحاد الإفريقي",
        "African Union", "Union africaine", "Unión Africana", "Afrikanische Union", "Unione africana",
        "União Africana", "Африканский союз", "Afrika Birliği", "非洲联盟", "非盟",
    ),
    "G20": ("مجموعة العشرين", "G-20", "Group of Twenty", "Большая двадцатка", "二十国集团"),
    "SCO": (
        "منظمة شنغهاي للتعاون",
        "Shanghai Cooperation Organisation", "Shanghai Cooperation Organization",
        "Organisation de coopération de Shanghai", "Organización de Cooperación de Shanghái",
        "Shanghaier Organisation für Zusammenarbeit", "Шанхайская организация сотрудничества",
        "Şanghay İşbirliği Örgütü", "上海合作组织", "上合组织",
    ),
    "WTO": (
        "منظمة التجارة العالمية",
        "World Trade Organization", "World Trade Organisation", "Organisation mondiale du commerce",
        "Organización Mundial del Comercio", "Welthandelsorganisation", "Organizzazione mondiale del commercio",
        "Organização Mundial do Comércio", "Всемирная торговая организация", "Dünya Ticaret Örgütü",
        "世界贸易组织", "世贸组织",
    ),
    "ICC": (
        "المحكمة الجنائية الدولية", "الجنائية الدولية",
        "International Criminal Court", "Cour pénale internationale", "Corte Penal Internacional",
        "Internationaler Strafgerichtshof", "Corte penale internazionale", "Tribunal Penal Internacional",
        "Международный уголовный суд", "Uluslararası Ceza Mahkemesi", "国际刑事法院",
    ),
    "ISIL": (
        "داعش", "تنظيم الدولة الإسلامية",
        "Islamic State", "Daesh", "Daech", "État islamique", "Estado Islámico", "Islamischer Staat",
        "Stato Islamico", "Исламское государство", "İslam Devleti", "伊斯兰国",
    ),
    "MUSLIM_BROTHERHOOD": (
        "الإخوان المسلمين", "الإخوان المسلمون", "الإخوان",
        "Muslim Brotherhood", "Frères musulmans", "Hermanos Musulmanes", "Muslimbruderschaft",
        "Fratelli Musulmani", "Irmandade Muçulmana", "Братья-мусульмане", "Müslüman Kardeşler", "穆斯林兄弟会",
    ),
    "UNHRC": (
        "مجلس حقوق الإنسان",
        "Human Rights Council", "Conseil des droits de l'homme", "Consejo de Derechos Humanos",
        "Menschenrechtsrat", "Consiglio per i diritti umani", "Conselho de Direitos Humanos",
        "Совет по правам человека", "İnsan Hakları Konseyi", "人权理事会",
    ),
    "UNGA": (  # not "General Assembly" alone: every company and parliament has one
        "الجمعية العامة للأمم المتحدة",
        "UN General Assembly", "UN-Generalversammlung", "Генеральная Ассамблея ООН", "BM Genel Kurulu", "联合国大会",
    ),
}

#: Regions news names as one, which CLDR does not: each one's names, Arabic ones first.
REGIONS: Mapping[str, tuple[str, ...]] = {
    "GULF": (
        "الخليج", "خليج",  # also a gulf of one sea or another (خليج عدن), as Gulf is
        "Gulf", "Persian Gulf", "Arabian Gulf", "Golfe", "Golfo", "Golfo Pérsico", "Persischer Golf",
        "Basra Körfezi", "Персидский залив", "波斯湾", "خلیج فارس", "फ़ारस की खाड़ी",
    ),
    "MIDDLE_EAST": (
        "الشرق الأوسط",
        "Middle East", "Moyen-Orient", "Oriente Medio", "Oriente Médio", "Medio Oriente", "Nahost",
        "Naher Osten", "Nahen Osten", "Nahe Osten", "Ближний Восток", "Orta Doğu", "Ortadoğu", "中东",
        "خاورمیانه", "मध्य पूर्व",
    ),
}

#: Acronyms as written, each to what it stands for: an organisation above, or a CLDR
#: territory (the UN and the EU are ones; so are the countries news abbreviates). Not
#: those that are also words, codes or other bodies in capitals (IS, AU, UA, VN, AB).
ACRONYMS: Mapping[str, tuple[str, str]] = {
    **{acronym: ("territory", "UN") for acronym in ("UN", "ONU", "UNO", "ООН", "BM", "PBB", "ΟΗΕ", "ՄԱԿ")},
    **{acronym: ("territory", "EU") for acronym in ("EU", "UE", "ЕС")},
    **{acronym: ("territory", "US") for acronym in ("US", "USA", "ABD", "США", "ΗΠΑ", "ԱՄՆ", "EUA")},
    **{acronym: ("territory", "AE") for acronym in ("UAE", "BAE", "ОАЭ", "EAU", "VAE", "ΗΑΕ")},
    **{acronym: ("territory", "GB") for acronym in ("UK",)},
    **{acronym: ("territory", "SA") for acronym in ("KSA",)},
    **{acronym: ("organisation", key) for key, acronyms in {
        "GCC": ("GCC", "CCG", "KİK", "ССАГПЗ"),
        "UNSC": ("UNSC",),
        "NATO": ("NATO", "OTAN", "НАТО"),
        "OPEC": ("OPEC", "OPEP", "ОПЕК"),
        "IAEA": ("IAEA", "AIEA", "OIEA", "IAEO", "UAEA", "МАГАТЭ"),
        "WHO": ("WHO", "OMS", "ВОЗ", "DSÖ"),
        "IMF": ("IMF", "FMI", "IWF", "МВФ"),
        "OIC": ("OIC", "OCI", "ОИС", "İİT"),
        "G20": ("G20",),
        "SCO": ("SCO", "OCS", "ШОС", "ŞİÖ"),
        "WTO": ("WTO", "OMC", "ВТО", "DTÖ"),
        "ICC": ("ICC", "МУС"),  # not CPI, a price index in English, nor TPI, a court of first instance
        "ISIL": ("ISIS", "ISIL", "EI", "EIIL", "IŞİD", "DEAŞ", "ИГИЛ", "ԴԱԻՇ"),
        "UNHRC": ("UNHRC",),
        "UNGA": ("UNGA",),
    }.items() for acronym in acronyms},
}
