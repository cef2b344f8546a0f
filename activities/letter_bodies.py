"""The body of each kind of letter to a victim, in English and in Welsh (Welsh Language
Standards), with the placeholders activities/letter_render.py fills."""

from models.vocabulary import Language, LetterKind

BODIES_EN: dict[LetterKind, str] = {
    LetterKind.OFFER: (
        "You are entitled to join the Victim Contact Scheme (Domestic Violence, Crime and "
        "Victims Act 2004, section 35). If you join, you can tell us what licence conditions "
        "you would like to be considered, and we will tell you about key stages of the "
        "sentence. Please tell us whether you would like to join."
    ),
    LetterKind.CHASE: (
        "We wrote to you about the Victim Contact Scheme and have not heard from you. You can "
        "still join: please contact us."
    ),
    LetterKind.OFFER_CLOSED: (
        "As we have not heard from you, we have closed our offer of the Victim Contact Scheme. "
        "You can still join at any time while the sentence runs: just contact us."
    ),
    LetterKind.OPT_IN_CONFIRMED: "Thank you: you are now in the Victim Contact Scheme.",
    LetterKind.OPT_OUT_CONFIRMED: "You have left the Victim Contact Scheme.",
    LetterKind.REPRESENTATIONS_INVITED: (
        "The offender may be released on licence around {release_month}. You may tell us what "
        "conditions you would like the licence to contain, for example about contact with you "
        "or your family, by {due}.{redated}"
    ),
    LetterKind.REPRESENTATIONS_RECEIVED: (
        "Thank you for your views on the licence conditions. We have passed them to those "
        "who decide the conditions."
    ),
    LetterKind.CONDITIONS_IMPOSED: (
        "These licence conditions relating to you or your family have been imposed:\n{conditions}"
    ),
    LetterKind.RELEASE: "The offender was released on licence {released_in}.",
    LetterKind.KEY_STAGE: "We are writing to tell you about a development: {key_stage}.",
    LetterKind.ANNUAL_UPDATE: "This is your yearly update: the sentence continues as before.",
    LetterKind.CONDITION_ENDED: "These licence conditions have now ended:\n{conditions}",
    LetterKind.SCHEME_ENDED: (
        "The offender's licence and supervision have ended, and with them any licence "
        "conditions. Your part in the Victim Contact Scheme has now ended."
    ),
    # Hospital paths (DVCVA 2004 ss 36-44A; models/hospital.py).
    LetterKind.HOSPITAL_OFFER: (
        "You are entitled to join the Victim Contact Scheme (Domestic Violence, Crime and "
        "Victims Act 2004, sections 36 to 44A). The offender is detained in hospital under the "
        "Mental Health Act 1983. If you join, you can tell us what conditions you would like "
        "the offender to be subject to on discharge from hospital, and we will tell you about "
        "the conditions relating to contact with you or your family. Where the law requires "
        "it, we will give the hospital managers your name, your address and your views, and "
        "tell you the name and address of the hospital. Please tell us whether you would like "
        "to join."
    ),
    LetterKind.HOSPITAL_DETAILS: (
        "The offender is detained in this hospital:\n{hospital}\nAs the law requires, we "
        "have given the hospital managers {hospital_disclosed} (Domestic Violence, Crime and "
        "Victims Act 2004, sections 36A and 42A)."
    ),
    LetterKind.HOSPITAL_NOTICE: (
        "To the managers of the hospital:\n{hospital}\n\nDomestic Violence, Crime and Victims "
        "Act 2004, section {section}. The victim of the offence committed by your patient "
        "(case {case_ref}) wishes to make representations or to receive information.\n"
        "Victim: {victim_name}\nAddress at which the victim may be contacted: "
        "{victim_contact}\n{representations}\nPlease keep this information secure and do not "
        "disclose it to the patient."
    ),
    LetterKind.DISCHARGE_REPRESENTATIONS_RECEIVED: (
        "Thank you for your views on the conditions of the offender's discharge from "
        "hospital. We have passed them to those who decide the conditions."
    ),
    LetterKind.DISCHARGE_CONDITIONS: (
        "These conditions of the offender's discharge from hospital relate to you or your "
        "family:\n{conditions}{restriction_end}"
    ),
    LetterKind.DISCHARGE_CONDITION_ENDED: (
        "These conditions of the offender's discharge from hospital have now ended:\n{conditions}"
    ),
    LetterKind.DISCHARGED: (
        "The offender has been {discharge} {released_in}.{discharge_note}{restriction_end}"
    ),
    LetterKind.REMITTED: (
        "The offender has been returned from hospital to prison to continue the sentence. We "
        "will keep you informed as before."
    ),
    LetterKind.RESTRICTION_LIFTED: (
        "The restrictions on the offender's discharge from hospital have been lifted. "
        "Decisions about discharge and its conditions are now made by the offender's "
        "responsible clinician; we will pass any views you give us to them through the "
        "hospital managers."
    ),
    LetterKind.RESTRICTION_VARIED: (
        "The date on which the restrictions on the offender's discharge from hospital end has "
        "changed.{restriction_end}"
    ),
    LetterKind.TRIBUNAL_APPLICATION: (
        "The offender's case is to be considered by the Mental Health Tribunal, which may "
        "discharge the offender from hospital. You may give us your views about the conditions "
        "the offender should be subject to on discharge, and we will pass them to the tribunal."
    ),
    # Parole Board reviews (workflows/review_path.py; domain.md 'Parole'; 000_5a1d5e000983110f.txt).
    LetterKind.PAROLE_INVITATION: (
        "The offender's case has been referred to the Parole Board for a review. You may write "
        "a Victim Personal Statement about the impact the crime has had on you and your "
        "family; it must not say whether you think the offender should be released. You may "
        "also tell us what licence conditions you would like the Board to consider, for "
        "example about contact with you or your family. Please send them to us by {due}. If "
        "the Board holds an oral hearing, you may apply to read your statement at it: the "
        "Board decides."
    ),
    LetterKind.VPS_RECEIVED: (
        "Thank you for your Victim Personal Statement. We have sent it to the Parole Board."
    ),
    LetterKind.VPS_RECEIVED_LATE: (
        "Thank you for your Victim Personal Statement. We have sent it to the Parole Board. It "
        "reached the Board later than its timetable allows, so it is marked as late: the panel "
        "will decide whether to consider it."
    ),
    LetterKind.READ_VPS_GRANTED: (
        "The Parole Board has agreed that you may read your Victim Personal Statement at the "
        "oral hearing. We will contact you about the arrangements."
    ),
    LetterKind.READ_VPS_REFUSED: (
        "The Parole Board has decided that you will not read your Victim Personal Statement "
        "at the oral hearing. Your written statement has been sent to the panel."
    ),
    LetterKind.PAROLE_HEARING_ADJOURNED: (
        "The Parole Board hearing has been adjourned to a later date. Your statement stays "
        "with the Board. We will contact you about the new arrangements."
    ),
    LetterKind.PAROLE_RELEASE: (
        "The Parole Board has directed the offender's release on licence. We will tell you "
        "about the licence conditions relating to you or your family. You may ask us for a "
        "summary of the reasons for the Board's decision."
    ),
    LetterKind.PAROLE_NO_RELEASE: (
        "The Parole Board has decided not to direct the offender's release. The next review "
        "is expected {next_review}. You may ask us for a summary of the reasons for the "
        "Board's decision."
    ),
    LetterKind.PAROLE_OPEN_CONDITIONS: (
        "The Parole Board has recommended that the offender moves to open conditions (a "
        "prison with less security). The offender has not been released. You may ask us for "
        "a summary of the reasons for the Board's decision."
    ),
    LetterKind.PAROLE_SUMMARY_REQUESTED: (
        "You asked for a summary of the reasons for the Parole Board's decision. We have "
        "asked the Board for it and will send it to you as soon as we have it."
    ),
}

BODIES_CY: dict[LetterKind, str] = {
    LetterKind.OFFER: (
        "Mae gennych hawl i ymuno â'r Cynllun Cyswllt â Dioddefwyr (Deddf Trais Domestig, "
        "Troseddu a Dioddefwyr 2004, adran 35). Os byddwch yn ymuno, gallwch ddweud wrthym pa "
        "amodau trwydded yr hoffech i ni eu hystyried, a byddwn yn rhoi gwybod i chi am gamau "
        "allweddol y ddedfryd. Rhowch wybod i ni a hoffech ymuno."
    ),
    LetterKind.CHASE: (
        "Fe wnaethom ysgrifennu atoch am y Cynllun Cyswllt â Dioddefwyr, ond nid ydym wedi "
        "clywed gennych. Gallwch ymuno o hyd: cysylltwch â ni."
    ),
    LetterKind.OFFER_CLOSED: (
        "Gan nad ydym wedi clywed gennych, rydym wedi cau ein cynnig i chi ymuno â'r Cynllun "
        "Cyswllt â Dioddefwyr. Gallwch ymuno o hyd ar unrhyw adeg tra bydd y ddedfryd yn "
        "parhau: cysylltwch â ni."
    ),
    LetterKind.OPT_IN_CONFIRMED: "Diolch: rydych bellach yn rhan o'r Cynllun Cyswllt â Dioddefwyr.",
    LetterKind.OPT_OUT_CONFIRMED: "Rydych wedi gadael y Cynllun Cyswllt â Dioddefwyr.",
    LetterKind.REPRESENTATIONS_INVITED: (
        "Efallai y caiff y troseddwr ei ryddhau ar drwydded tua {release_month}. Gallwch ddweud "
        "wrthym pa amodau yr hoffech eu gweld yn y drwydded, er enghraifft am gysylltiad â chi "
        "neu â'ch teulu, erbyn {due}.{redated}"
    ),
    LetterKind.REPRESENTATIONS_RECEIVED: (
        "Diolch am eich sylwadau ar amodau'r drwydded. Rydym wedi eu hanfon at y rhai sy'n "
        "penderfynu ar yr amodau."
    ),
    LetterKind.CONDITIONS_IMPOSED: (
        "Mae'r amodau trwydded hyn sy'n ymwneud â chi neu â'ch teulu wedi cael eu gosod:\n"
        "{conditions}"
    ),
    LetterKind.RELEASE: "Cafodd y troseddwr ei ryddhau ar drwydded {released_in}.",
    LetterKind.KEY_STAGE: (
        "Rydym yn ysgrifennu atoch i roi gwybod i chi am ddatblygiad: {key_stage}."
    ),
    LetterKind.ANNUAL_UPDATE: (
        "Dyma eich diweddariad blynyddol: mae'r ddedfryd yn parhau fel o'r blaen."
    ),
    LetterKind.CONDITION_ENDED: "Mae'r amodau trwydded hyn bellach wedi dod i ben:\n{conditions}",
    LetterKind.SCHEME_ENDED: (
        "Mae trwydded a goruchwyliaeth y troseddwr wedi dod i ben, ac felly hefyd unrhyw "
        "amodau trwydded. Mae eich rhan yn y Cynllun Cyswllt â Dioddefwyr bellach wedi dod i "
        "ben."
    ),
    # Llwybrau ysbyty (Deddf 2004, adrannau 36-44A; models/hospital.py).
    LetterKind.HOSPITAL_OFFER: (
        "Mae gennych hawl i ymuno â'r Cynllun Cyswllt â Dioddefwyr (Deddf Trais Domestig, "
        "Troseddu a Dioddefwyr 2004, adrannau 36 i 44A). Mae'r troseddwr yn cael ei gadw yn "
        "yr ysbyty o dan Ddeddf Iechyd Meddwl 1983. Os byddwch yn ymuno, gallwch ddweud wrthym "
        "pa amodau yr hoffech eu gweld pan gaiff y troseddwr ei ryddhau o'r ysbyty, a byddwn "
        "yn rhoi gwybod i chi am yr amodau sy'n ymwneud â chysylltiad â chi neu â'ch teulu. "
        "Lle mae'r gyfraith yn gofyn hynny, byddwn yn rhoi eich enw, eich cyfeiriad a'ch "
        "sylwadau i reolwyr yr ysbyty, ac yn rhoi gwybod i chi beth yw enw a chyfeiriad yr "
        "ysbyty. Rhowch wybod i ni a hoffech ymuno."
    ),
    LetterKind.HOSPITAL_DETAILS: (
        "Mae'r troseddwr yn cael ei gadw yn yr ysbyty hwn:\n{hospital}\nFel y mae'r gyfraith "
        "yn ei gwneud yn ofynnol, rydym wedi rhoi {hospital_disclosed} i reolwyr yr ysbyty "
        "(Deddf Trais Domestig, Troseddu a Dioddefwyr 2004, adrannau 36A a 42A)."
    ),
    LetterKind.HOSPITAL_NOTICE: (
        "At reolwyr yr ysbyty:\n{hospital}\n\nDeddf Trais Domestig, Troseddu a Dioddefwyr "
        "2004, adran {section}. Mae dioddefwr y drosedd a gyflawnwyd gan eich claf (achos "
        "{case_ref}) yn dymuno cyflwyno sylwadau neu gael gwybodaeth.\n"
        "Dioddefwr: {victim_name}\nCyfeiriad lle gellir cysylltu â'r dioddefwr: "
        "{victim_contact}\n{representations}\nCadwch yr wybodaeth hon yn ddiogel a pheidiwch "
        "â'i datgelu i'r claf."
    ),
    LetterKind.DISCHARGE_REPRESENTATIONS_RECEIVED: (
        "Diolch am eich sylwadau ar amodau rhyddhau'r troseddwr o'r ysbyty. Rydym wedi eu "
        "hanfon at y rhai sy'n penderfynu ar yr amodau."
    ),
    LetterKind.DISCHARGE_CONDITIONS: (
        "Mae'r amodau hyn ar gyfer rhyddhau'r troseddwr o'r ysbyty yn ymwneud â chi neu â'ch "
        "teulu:\n{conditions}{restriction_end}"
    ),
    LetterKind.DISCHARGE_CONDITION_ENDED: (
        "Mae'r amodau hyn ar gyfer rhyddhau'r troseddwr o'r ysbyty bellach wedi dod i ben:\n"
        "{conditions}"
    ),
    LetterKind.DISCHARGED: (
        "Mae'r troseddwr wedi cael ei {discharge} {released_in}.{discharge_note}{restriction_end}"
    ),
    LetterKind.REMITTED: (
        "Mae'r troseddwr wedi cael ei anfon yn ôl o'r ysbyty i'r carchar i barhau â'r "
        "ddedfryd. Byddwn yn parhau i roi gwybod i chi fel o'r blaen."
    ),
    LetterKind.RESTRICTION_LIFTED: (
        "Mae'r cyfyngiadau ar ryddhau'r troseddwr o'r ysbyty wedi cael eu codi. Bellach, "
        "clinigydd cyfrifol y troseddwr sy'n penderfynu ar ei ryddhau a'r amodau; byddwn yn "
        "anfon unrhyw sylwadau a roddwch i ni atynt drwy reolwyr yr ysbyty."
    ),
    LetterKind.RESTRICTION_VARIED: (
        "Mae'r dyddiad y daw'r cyfyngiadau ar ryddhau'r troseddwr o'r ysbyty i ben wedi "
        "newid.{restriction_end}"
    ),
    LetterKind.TRIBUNAL_APPLICATION: (
        "Bydd y Tribiwnlys Iechyd Meddwl yn ystyried achos y troseddwr, a gall ei ryddhau o'r "
        "ysbyty. Gallwch roi eich sylwadau i ni am yr amodau y dylai'r troseddwr fod yn "
        "ddarostyngedig iddynt ar ôl ei ryddhau, a byddwn yn eu hanfon at y tribiwnlys."
    ),
    # Adolygiadau'r Bwrdd Parôl (workflows/review_path.py).
    LetterKind.PAROLE_INVITATION: (
        "Mae achos y troseddwr wedi cael ei gyfeirio at y Bwrdd Parôl i'w adolygu. Gallwch "
        "ysgrifennu Datganiad Personol Dioddefwr am effaith y drosedd arnoch chi a'ch teulu; "
        "ni ddylai ddweud a ydych yn credu y dylai'r troseddwr gael ei ryddhau. Gallwch hefyd "
        "ddweud wrthym pa amodau trwydded yr hoffech i'r Bwrdd eu hystyried, er enghraifft am "
        "gysylltiad â chi neu â'ch teulu. Anfonwch nhw atom erbyn {due}. Os bydd y Bwrdd yn "
        "cynnal gwrandawiad llafar, gallwch wneud cais i ddarllen eich datganiad yno: y Bwrdd "
        "sy'n penderfynu."
    ),
    LetterKind.VPS_RECEIVED: (
        "Diolch am eich Datganiad Personol Dioddefwr. Rydym wedi ei anfon at y Bwrdd Parôl."
    ),
    LetterKind.VPS_RECEIVED_LATE: (
        "Diolch am eich Datganiad Personol Dioddefwr. Rydym wedi ei anfon at y Bwrdd Parôl. "
        "Fe gyrhaeddodd y Bwrdd yn hwyrach nag y mae ei amserlen yn ei ganiatáu, felly mae "
        "wedi'i nodi'n hwyr: bydd y panel yn penderfynu a fydd yn ei ystyried."
    ),
    LetterKind.READ_VPS_GRANTED: (
        "Mae'r Bwrdd Parôl wedi cytuno y cewch ddarllen eich Datganiad Personol Dioddefwr yn "
        "y gwrandawiad llafar. Byddwn yn cysylltu â chi am y trefniadau."
    ),
    LetterKind.READ_VPS_REFUSED: (
        "Mae'r Bwrdd Parôl wedi penderfynu na fyddwch yn darllen eich Datganiad Personol "
        "Dioddefwr yn y gwrandawiad llafar. Mae eich datganiad ysgrifenedig wedi cael ei "
        "anfon at y panel."
    ),
    LetterKind.PAROLE_HEARING_ADJOURNED: (
        "Mae gwrandawiad y Bwrdd Parôl wedi cael ei ohirio i ddyddiad diweddarach. Mae eich "
        "datganiad yn aros gyda'r Bwrdd. Byddwn yn cysylltu â chi am y trefniadau newydd."
    ),
    LetterKind.PAROLE_RELEASE: (
        "Mae'r Bwrdd Parôl wedi cyfarwyddo y dylid rhyddhau'r troseddwr ar drwydded. Byddwn "
        "yn rhoi gwybod i chi am amodau'r drwydded sy'n ymwneud â chi neu â'ch teulu. Gallwch "
        "ofyn i ni am grynodeb o'r rhesymau dros benderfyniad y Bwrdd."
    ),
    LetterKind.PAROLE_NO_RELEASE: (
        "Mae'r Bwrdd Parôl wedi penderfynu peidio â chyfarwyddo y dylid rhyddhau'r troseddwr. "
        "Disgwylir i'r adolygiad nesaf gael ei gynnal {next_review}. Gallwch ofyn i ni am "
        "grynodeb o'r rhesymau dros benderfyniad y Bwrdd."
    ),
    LetterKind.PAROLE_OPEN_CONDITIONS: (
        "Mae'r Bwrdd Parôl wedi argymell y dylai'r troseddwr symud i amodau agored (carchar "
        "â llai o ddiogelwch). Nid yw'r troseddwr wedi cael ei ryddhau. Gallwch ofyn i ni am "
        "grynodeb o'r rhesymau dros benderfyniad y Bwrdd."
    ),
    LetterKind.PAROLE_SUMMARY_REQUESTED: (
        "Gwnaethoch ofyn am grynodeb o'r rhesymau dros benderfyniad y Bwrdd Parôl. Rydym "
        "wedi gofyn i'r Bwrdd amdano a byddwn yn ei anfon atoch cyn gynted ag y bydd "
        "gennym ef."
    ),
}

BODIES: dict[Language, dict[LetterKind, str]] = {
    Language.ENGLISH: BODIES_EN,
    Language.WELSH: BODIES_CY,
}
