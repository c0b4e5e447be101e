"""The word tables of the synthetic corpus: its lexicon, taxonomy and people.

Words by rough frequency in speech for French and English, the words of each
trade of click work, the syllables of made-up words; job types, themes,
places, names and the odds of each narrator's and testimony's traits. Read by
``corpus``; nothing here is drawn at random.
"""

# --- Lexicon --------------------------------------------------------------------

# The most frequent words first, in about their order of frequency in speech.
FUNCTION_WORDS = {
    "fr": """
        de la le et les à des en un une du que qui il je on est pas pour dans ce
        au ne sur se plus par avec mais nous vous ils elle a son sa ses tout
        comme y fait été aussi ou leur même bien sont très ça lui donc alors
        quand encore après avant où moi mon ma mes notre nos votre vos leurs ces
        cette cet tous toutes toute rien jamais toujours déjà peu beaucoup trop
        moins sans sous entre contre chez depuis pendant parce si non oui était
        avait ai avons avez ont suis sommes êtes être avoir faire dire aller
        voir savoir pouvoir vouloir venir prendre peut faut fallait va vais dit
        disait là ici puis enfin ensuite comment pourquoi quoi dont chaque autre
        autres quelque quelques plusieurs deux trois premier première jour jours
        fois temps heure heures ans année moment chose choses gens personne
        vraiment juste vrai bon bonne petit grand nouveau vie mois semaine soir
        matin nuit travail argent maison famille enfants monde vers parfois
        souvent presque tellement assez plutôt maintenant demain
        hier longtemps vite seul seule ensemble mieux pire sais crois pense
        voulais pouvais devais fallu mis pris vu eu su tenir laisser passer
        rester partir arriver commencer continuer arrêter payer perdre gagner
    """,
    "en": """
        the of and to a in that it I was you we they for is on with he she but
        as at be this have not had my so there from or by all were what if
        would when one their do about our out up just like them no can get
        more know then time because some people could work which me been did
        said an who go your into only also how very any even back after first
        well day really think got things over still every never always much
        other those these her him his its than now where why two three months
        years week night hours money home thing way lot little big new good bad
        make take see say come want need felt told asked went started kept left
        called found gave paid lost tried used knew thought same last long
        right nothing something everything someone anyone nobody family kids
        life job today tomorrow yesterday again already almost enough quite
        rather together alone better worse maybe sometimes often usually until
        while before since during without between against under around through
        should must might shall does doing done going getting making saying
        being having coming looking working talking trying leaving stopped
    """,
}
# Words of click work: first those of every trade, then each trade's own.
GENERAL_WORDS = {
    "fr": """
        plateforme plateformes application applications algorithme algorithmes
        écran écrans contrat contrats clause clauses confidentialité données
        client clients paie salaire rémunération notation note notes compte
        comptes statut indépendant indépendante auto-entrepreneur patron
        manager équipe équipes superviseur superviseurs consigne consignes
        objectif objectifs rendement cadence pression fatigue stress syndicat
        syndicats syndicaliste coopérative coopératives grève collectif avocat
        procès tribunal droit droits sécurité santé téléphone ordinateur
        internet connexion mission missions tâche tâches micro-tâche
        micro-tâches micro-travail annotation annotations étiquette étiquetage
        intelligence artificielle machine machines automatisation robot modèle
        entreprise sous-traitant sous-traitance prestataire bureau horaires
        planning désactivation désactivé prime pénalité euros dollars minute
        minutes chronomètre surveillance caméra licenciement chômage loyer
        factures précarité solitude collègues collègue formation recrutement
        entretien confiance peur colère honte fierté dignité silence secret
    """,
    "en": """
        platform platforms app apps algorithm algorithms screen screens contract
        contracts clause clauses confidentiality data client clients pay wage
        wages rating ratings account accounts status contractor freelancer boss
        manager team teams supervisor supervisors guideline guidelines target
        targets quota pace pressure fatigue stress union unions organiser
        cooperative cooperatives strike collective lawyer lawsuit court right
        rights safety health phone laptop internet connection gig gigs task
        tasks microtask microtasks annotation annotations label labelling
        intelligence artificial machine machines automation robot model company
        subcontractor outsourcing vendor office shifts schedule deactivation
        deactivated bonus penalty euros dollars minute minutes timer
        surveillance camera dismissal unemployment rent bills precarity
        loneliness colleagues colleague training recruitment interview trust
        fear anger shame pride dignity silence secret
    """,
}
TOPIC_WORDS = {
    "fr": {
        "courier": """livreur livreurs livreuse vélo vélos course courses commande
            commandes restaurant restaurants repas colis sac pluie scooter
            trottinette zone adresse quartier pourboire kilomètre kilomètres
            attente accident chute rue feux""",
        "ride-hail-driver": """chauffeur chauffeurs chauffeuse voiture passager
            passagers trajet trajets tarif tarifs majoration essence carburant
            aéroport gare licence embouteillage permis étoiles""",
        "content-moderator": """modérateur modérateurs modératrice modération
            contenu contenus vidéos vidéo images signalement signalements
            violence haine suicide cauchemars psychologue file réseaux sociaux
            publication publications règles retrait suppression traumatisme
            angoisse""",
        "language-analyst": """enregistrement enregistrements voix casque écoute
            transcription transcriptions assistant assistants vocal vocaux
            conversation conversations intime intimes accent accents phrase
            phrases reconnaissance parole analyste linguistique""",
        "micro-tasker": """annoter étiqueter image photo photos classement
            catégorie catégories captcha sondage sondages entraîner entraînement
            lot lots validation rejet rejetée rejetées qualité piéçards""",
        "search-quality-rater": """résultat résultats moteur recherche requête
            requêtes pertinence pertinent guide évaluation évaluateur
            évaluatrice échelle page pages site sites annonce annonces""",
        "transcriber": """transcripteur transcriptrice fichier fichiers audio
            clavier orthographe sous-titres sous-titrage horodatage
            dactylographie""",
        "ai-trainer": """réponse réponses chatbot invite rédaction comparaison
            préférence préférences correction corrections biais consignes
            dialogue""",
    },
    "en": {
        "courier": """courier couriers rider riders bike bikes delivery
            deliveries order orders restaurant restaurants meal meals parcel
            backpack rain scooter zone address neighbourhood tip tips mile miles
            waiting accident crash street lights""",
        "ride-hail-driver": """driver drivers car passenger passengers ride
            rides fare fares surge fuel gas airport station licence traffic
            stars""",
        "content-moderator": """moderator moderators moderation content videos
            video images flag flags flagged violence hate suicide nightmares
            therapist queue social networks post posts policy policies removal
            takedown trauma anxiety""",
        "language-analyst": """recording recordings voice voices headset
            listening transcription transcriptions assistant assistants
            conversation conversations intimate accent accents sentence
            sentences recognition speech analyst linguistic""",
        "micro-tasker": """annotate labeller labellers image photo photos
            bounding box boxes category categories captcha survey surveys train
            training batch batches approval rejection rejected quality hit hits
            requester requesters""",
        "search-quality-rater": """result results engine search query queries
            relevance relevant guide evaluation rater raters scale page pages
            site sites ad ads""",
        "transcriber": """transcriber transcribers file files audio keyboard
            spelling subtitles captions timestamps typing""",
        "ai-trainer": """answer answers chatbot prompt prompts writing
            comparison preference preferences correction corrections bias
            dialogue""",
    },
}

# Letters for the long tail of pronounceable words that no dictionary holds.
SYLLABLES = {
    "fr": {
        "onsets": "b c d f g j l m n p r s t v ch br cr dr fr gr pl pr tr qu",
        "vowels": "a a e i o u é é è ê ou ai au eau oi eu an en on in â",
        "codas": "r l s n t x",
        "suffixes": "ment tion eur euse age ette ier ière ité isme ant ance",
    },
    "en": {
        "onsets": "b c d f g h j k l m n p r s t v w y bl br cl cr dr fl gr pl pr"
        " sh sl sp st str th tr wh",
        "vowels": "a a e e i o u ea ee oo ai ou ow",
        "codas": "n r l s t ck nd st ng sh m",
        "suffixes": "ing er ed ly ness tion ment s ful less",
    },
}

# --- Taxonomy and people -----------------------------------------------------

# slug: (name fr, name en, ISCO-08); the first six as in the demo data.
JOB_TYPES = {
    "courier": ("Livreur ou livreuse à vélo", "Bike courier", "9331"),
    "ride-hail-driver": ("Chauffeur ou chauffeuse VTC", "Ride-hail driver", "8322"),
    "content-moderator": (
        "Modérateur ou modératrice de contenus",
        "Content moderator",
        "",
    ),
    "language-analyst": ("Analyste linguistique", "Language analyst", ""),
    "micro-tasker": (
        "Micro-travailleur ou micro-travailleuse (annotation de données)",
        "Micro-tasker / data labeller",
        "",
    ),
    "search-quality-rater": (
        "Évaluateur ou évaluatrice de la qualité des recherches",
        "Search-quality rater",
        "",
    ),
    "transcriber": ("Transcripteur ou transcriptrice", "Transcriber", "4131"),
    "ai-trainer": (
        "Entraîneur ou entraîneuse d'assistants conversationnels",
        "AI trainer",
        "",
    ),
}
# How a descriptor names the trade: French masculine, feminine, English.
JOB_DESCRIPTORS = {
    "courier": ("un livreur à vélo", "une livreuse à vélo", "a bike courier"),
    "ride-hail-driver": (
        "un chauffeur VTC",
        "une chauffeuse VTC",
        "a ride-hail driver",
    ),
    "content-moderator": (
        "un modérateur de contenus",
        "une modératrice de contenus",
        "a content moderator",
    ),
    "language-analyst": (
        "un analyste linguistique",
        "une analyste linguistique",
        "a language analyst",
    ),
    "micro-tasker": (
        "un micro-travailleur",
        "une micro-travailleuse",
        "a micro-worker",
    ),
    "search-quality-rater": (
        "un évaluateur de recherches",
        "une évaluatrice de recherches",
        "a search-quality rater",
    ),
    "transcriber": ("un transcripteur", "une transcriptrice", "a transcriber"),
    "ai-trainer": (
        "un entraîneur d'assistants",
        "une entraîneuse d'assistants",
        "an AI trainer",
    ),
}
# slug: (name fr, name en, parent slug); parents before their children.
THEMES = {
    "algorithmic-management": (
        "Management algorithmique",
        "Algorithmic management",
        None,
    ),
    "non-disclosure": (
        "Confidentialité et silence (le « bâillon juridique »)",
        'Non-disclosure and silence (the "legal gag")',
        None,
    ),
    "trauma": ("Traumatisme", "Trauma", None),
    "piecework-pay": ("Paie à la tâche (les « piéçards »)", "Piecework pay", None),
    "surveillance-privacy": (
        "Surveillance et vie privée",
        "Surveillance and privacy",
        None,
    ),
    "organising": (
        "S'organiser (syndicats, coopératives)",
        "Organising (unions, cooperatives)",
        None,
    ),
    "unions": ("Syndicats", "Unions", "organising"),
    "cooperatives": ("Coopératives", "Cooperatives", "organising"),
    "data-automation": ("Données et automatisation", "Data and automation", None),
    "sleight-of-hand": (
        "Le tour de passe-passe (le travail humain caché derrière l'automatisation)",
        "The sleight of hand (human work hidden behind claims of automation)",
        None,
    ),
    "deactivation": ("Désactivation des comptes", "Account deactivation", None),
    "working-hours": ("Temps de travail", "Working hours", None),
    "health-safety": ("Santé et sécurité", "Health and safety", None),
}
THEMES_OF_JOB = {
    "courier": [
        "algorithmic-management",
        "piecework-pay",
        "unions",
        "cooperatives",
        "health-safety",
        "deactivation",
    ],
    "ride-hail-driver": [
        "algorithmic-management",
        "surveillance-privacy",
        "piecework-pay",
        "unions",
        "deactivation",
        "working-hours",
    ],
    "content-moderator": [
        "trauma",
        "non-disclosure",
        "surveillance-privacy",
        "unions",
        "health-safety",
    ],
    "language-analyst": [
        "surveillance-privacy",
        "non-disclosure",
        "sleight-of-hand",
        "data-automation",
    ],
    "micro-tasker": [
        "piecework-pay",
        "data-automation",
        "sleight-of-hand",
        "algorithmic-management",
        "working-hours",
    ],
    "search-quality-rater": [
        "algorithmic-management",
        "non-disclosure",
        "piecework-pay",
        "data-automation",
    ],
    "transcriber": [
        "piecework-pay",
        "data-automation",
        "working-hours",
        "sleight-of-hand",
    ],
    "ai-trainer": [
        "data-automation",
        "sleight-of-hand",
        "non-disclosure",
        "piecework-pay",
        "trauma",
    ],
}
CONTENT_WARNINGS = {
    "fr": {
        "content-moderator": [
            "violence",
            "suicide",
            "maltraitance animale",
            "violences sexuelles",
            "automutilation",
        ],
        "ai-trainer": ["violence", "violences sexuelles"],
        "courier": ["accident de la route"],
        "ride-hail-driver": ["accident de la route"],
        "language-analyst": ["vie privée", "contenus intimes"],
    },
    "en": {
        "content-moderator": [
            "violence",
            "suicide",
            "animal cruelty",
            "sexual violence",
            "self-harm",
        ],
        "ai-trainer": ["violence", "sexual violence"],
        "courier": ["road accident"],
        "ride-hail-driver": ["road accident"],
        "language-analyst": ["privacy", "intimate content"],
    },
}
WARNING_ODDS = {"content-moderator": 0.6, "ai-trainer": 0.25}

# code: (weight among the narrators interviewed in its language, regions with
# their places, trades and their weights).
COUNTRIES_BY_LANGUAGE = {
    "fr": {"FR": 60, "MG": 25, "MA": 8, "SN": 7},
    "en": {
        "US": 20,
        "PH": 18,
        "KE": 15,
        "IN": 12,
        "NG": 6,
        "VE": 7,
        "IE": 7,
        "DE": 5,
        "ES": 5,
        "BR": 5,
    },
}
REGIONS = {
    "FR": {
        "Île-de-France": ["Paris", "Saint-Denis", "Montreuil", "Créteil"],
        "Nouvelle-Aquitaine": ["Bordeaux", "Limoges", "Guéret"],
        "Auvergne-Rhône-Alpes": ["Lyon", "Grenoble", "Clermont-Ferrand"],
        "Occitanie": ["Toulouse", "Montpellier"],
        "Bretagne": ["Rennes", "Brest"],
        "Hauts-de-France": ["Lille", "Amiens"],
        "Provence-Alpes-Côte d'Azur": ["Marseille", "Nice"],
        "Grand Est": ["Strasbourg", "Nancy"],
    },
    "MG": {
        "Analamanga": ["Antananarivo", "Ambohidratrimo"],
        "Atsinanana": ["Toamasina"],
        "Haute Matsiatra": ["Fianarantsoa"],
    },
    "MA": {"Casablanca-Settat": ["Casablanca"], "Rabat-Salé-Kénitra": ["Rabat"]},
    "SN": {"Dakar": ["Dakar", "Pikine"], "Thiès": ["Thiès"]},
    "US": {
        "California": ["Los Angeles", "Oakland"],
        "Texas": ["Austin", "Houston"],
        "New York": ["New York"],
        "Arizona": ["Phoenix"],
    },
    "PH": {
        "Metro Manila": ["Quezon City", "Manila"],
        "Central Visayas": ["Cebu City"],
        "Davao Region": ["Davao City"],
    },
    "KE": {
        "Nairobi County": ["Nairobi"],
        "Mombasa County": ["Mombasa"],
        "Kisumu County": ["Kisumu"],
    },
    "IN": {
        "Karnataka": ["Bengaluru"],
        "Maharashtra": ["Mumbai", "Pune"],
        "Telangana": ["Hyderabad"],
    },
    "NG": {"Lagos State": ["Lagos"], "Federal Capital Territory": ["Abuja"]},
    "VE": {
        "Distrito Capital": ["Caracas"],
        "Zulia": ["Maracaibo"],
        "Carabobo": ["Valencia"],
    },
    "IE": {"Leinster": ["Dublin"], "Munster": ["Cork"]},
    "DE": {"Berlin": ["Berlin"], "Bavaria": ["Munich"], "Hamburg": ["Hamburg"]},
    "ES": {
        "Catalonia": ["Barcelona"],
        "Community of Madrid": ["Madrid"],
        "Andalusia": ["Seville"],
    },
    "BR": {"São Paulo": ["São Paulo"], "Bahia": ["Salvador"]},
}
COUNTRY_NAMES = {
    "FR": ("France", "France"),
    "MG": ("Madagascar", "Madagascar"),
    "MA": ("Maroc", "Morocco"),
    "SN": ("Sénégal", "Senegal"),
    "US": ("États-Unis", "United States"),
    "PH": ("Philippines", "Philippines"),
    "KE": ("Kenya", "Kenya"),
    "IN": ("Inde", "India"),
    "NG": ("Nigeria", "Nigeria"),
    "VE": ("Venezuela", "Venezuela"),
    "IE": ("Irlande", "Ireland"),
    "DE": ("Allemagne", "Germany"),
    "ES": ("Espagne", "Spain"),
    "BR": ("Brésil", "Brazil"),
}
PLATFORM_TRADES = {
    "micro-tasker": 35,
    "content-moderator": 20,
    "ai-trainer": 15,
    "transcriber": 15,
    "search-quality-rater": 10,
    "language-analyst": 5,
}
JOBS_BY_COUNTRY = {
    "FR": {
        "courier": 25,
        "ride-hail-driver": 15,
        "micro-tasker": 20,
        "content-moderator": 15,
        "language-analyst": 10,
        "search-quality-rater": 8,
        "transcriber": 7,
    },
    "US": {
        "ride-hail-driver": 25,
        "courier": 20,
        "micro-tasker": 15,
        "ai-trainer": 15,
        "search-quality-rater": 15,
        "content-moderator": 10,
    },
    "IE": {"content-moderator": 50, "language-analyst": 30, "ai-trainer": 20},
    "DE": {"content-moderator": 40, "courier": 30, "language-analyst": 30},
    "ES": {"content-moderator": 40, "language-analyst": 30, "courier": 30},
}
BIRTH_DECADES = {1950: 2, 1960: 6, 1970: 14, 1980: 28, 1990: 38, 2000: 12}
IDENTITIES = {"anonymous": 40, "pseudonym": 45, "named": 15}
STATUSES = {"published": 80, "draft": 7, "in_review": 7, "retired": 6}
SCOPES = {"public": 72, "research": 14, "archive": 8, "withdrawn": 6}
MEDIA_RELEASES = {"audio_video": 30, "audio": 45, "none": 25}
# The record before the one in force, when there are two.
EARLIER_SCOPE = {
    "public": "research",
    "research": "public",
    "archive": "public",
    "withdrawn": "public",
}
CONSENT_NOTES = {
    "fr": {
        "public": "Le narrateur a élargi son accord à la publication.",
        "research": "Accord restreint à la recherche à la demande du narrateur.",
        "archive": "Consultation réservée à l'équipe, à la demande du narrateur.",
        "withdrawn": "Retrait demandé par le narrateur avec son code de référence.",
    },
    "en": {
        "public": "The narrator widened their consent to publication.",
        "research": "Consent narrowed to research at the narrator's request.",
        "archive": "Staff access only, at the narrator's request.",
        "withdrawn": "Withdrawal requested by the narrator with their reference code.",
    },
}
INTERVIEWERS = {
    "fr": {"Équipe de l'archive": 60, "Claire Dumas": 15, "Olivier Nkembe": 15},
    "en": {"Archive team": 60, "Ruth Adeyemi": 15, "Sam Whitaker": 15},
}
TITLE_LINKS = {
    "fr": ["et", "sans", "pour", "contre", "dans", "avec", "de", "après"],
    "en": ["and", "without", "for", "against", "in", "with", "of", "after"],
}

# First names (men, women) and surnames by group of countries.
NAMES = {
    "FR": (
        "Karim Thomas Nicolas Mehdi Julien Antoine Yacine Romain Hugo Sofiane",
        "Léa Camille Sarah Inès Manon Chloé Amina Julie Élodie Nadia Pauline",
        "Martin Bernard Moreau Lefèvre Girard Benali Fontaine Rousseau Mercier"
        " Diallo Garnier Chevalier",
    ),
    "MG": (
        "Hery Tahina Fanomezana Andry Rija Mamy",
        "Fanja Voahangy Lalao Tiana Hanitra Nirina",
        "Rakoto Rasoanaivo Randriamampionona Rabe Andrianina Razafindrakoto",
    ),
    "MA": (
        "Youssef Omar Hamza Anas",
        "Salma Imane Khadija Meryem",
        "Benjelloun Alaoui Tazi Bennani",
    ),
    "SN": (
        "Moussa Ousmane Cheikh Mamadou",
        "Aïssatou Fatou Awa Mariama",
        "Ndiaye Diop Fall Sow Sarr",
    ),
    "US": (
        "Jake Marcus Tyler Daniel Luis Kevin",
        "Ashley Jasmine Megan Maria Brianna Kayla",
        "Johnson Williams Garcia Miller Davis Robinson",
    ),
    "PH": (
        "Jomar Mark Paolo Rodel Jun",
        "Joy Mae Kristine Rowena Ligaya Angelica",
        "Santos Reyes Cruz Bautista Villanueva",
    ),
    "KE": (
        "Joseph Brian Dennis Kamau Otieno",
        "Wanjiku Faith Mercy Achieng Naliaka Grace",
        "Otieno Mwangi Kariuki Odhiambo Wambua Njoroge",
    ),
    "IN": (
        "Rahul Arjun Vikram Sandeep Imran",
        "Priya Ananya Deepa Kavya Sneha",
        "Sharma Reddy Iyer Khan Patel Nair",
    ),
    "NG": (
        "Chinedu Tunde Emeka Ibrahim",
        "Ngozi Funmilayo Aisha Chiamaka",
        "Okafor Adeyemi Bello Eze",
    ),
    "VE": (
        "José Luis Carlos Andrés",
        "María Daniela Gabriela Andreína",
        "González Rodríguez Pérez Hernández Marcano",
    ),
    "IE": (
        "Cian Conor Seán Darragh",
        "Aoife Niamh Siobhán Ciara",
        "Murphy Kelly Byrne Walsh",
    ),
    "DE": (
        "Jonas Lukas Felix Tobias",
        "Lena Anna Miriam Katharina",
        "Müller Schmidt Weber Becker",
    ),
    "ES": (
        "Jordi Pablo Javier Sergio",
        "Marta Lucía Núria Elena",
        "García Martínez Puig López",
    ),
    "BR": (
        "João Rafael Thiago Lucas",
        "Ana Juliana Larissa Camila",
        "Silva Souza Oliveira Santos",
    ),
}
