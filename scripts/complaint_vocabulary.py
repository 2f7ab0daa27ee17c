"""Hand-curated cues for the complaint scorer, per kind and language (read by train_complaint.py).

Written from the domain, not from the corpus: what a support lead reads as a grievance (a
complaint, a demand, something that did not happen or went wrong, a threat, a public
exposure, an unauthorised charge) and what reads as an ordinary request (a question, praise,
a problem already solved). Cues are separated by commas and folded (no accents, no capitals,
no apostrophes: "won't" is `wont`); a word ending in `*` is a prefix; `~` between two words allows up to two
other words there ("não ~ cheg*" finds "não me chegou"). A topic word alone
(invoice, pagamento, entrega, app) is deliberately absent: it says whose ticket it is, not
that there is a dispute.

Training learns one weight per kind (so a cue the training texts never use still counts as
its kind) plus a correction per cue where the texts support one.
"""

from __future__ import annotations

KINDS = ("complaint", "demand", "went_wrong", "threat", "exposure", "charge", "question", "praise", "solved")

CUES: dict[str, dict[str, str]] = {
    "complaint": {
        "en": """complain*, disappoint*, unacceptable, ridiculous, terrible, horrible, awful, worst,
            pathetic, frustrat*, fed up, sick of, tired of, scam*, fraud*, rip off, ripoff,
            ripped off, useless, incompetent, shameful, disgust*, furious, angry, annoy*, no one,
            nobody, still waiting, been waiting, poor service, bad service, lied, liars,
            misleading, false advertis*, wtf, on hold, why did you, why would you, why do you,
            why are you, why is, why does, why cant, not happy, unhappy, dont recommend,
            not recommend, treated like, shame, poor""",
        "pt": """reclam*, absurd*, descaso, vergonha, palhacada, pessim*, horrivel, lamentavel,
            decepc*, insatisf*, indign*, revolt*, desrespeit*, falta de respeito, nenhuma resposta,
            sem resposta, ninguem, lixo, ridicul*, engan*, golpe*, fraude*, mentir*,
            propaganda enganosa, pior, cansei, nunca mais, mal atendid*, pessimo atendimento,
            abusiv*, ate agora, ate hoje, sem solucao, nao resolv*, nada resolv*, nao gostei,
            nao recomendo, por que voces, porque voces, gato por lebre""",
        "es": """queja*, quejo, reclam*, pesim*, horrible, terrible, fatal, verguenza, vergonzoso,
            indign*, harta, harto, decepcion*, abus*, fraude*, estafa*, robo, robar*, roban,
            ladron*, engan*, mentir*, basura, porqueria, peor, nadie, sin respuesta,
            ninguna respuesta, no contestan, no responden, no me resuelven, mal servicio,
            pesimo servicio, falta de respeto, sigo esperando, nunca mas, no recomiendo,
            no me gusto, que rayos, por que ustedes, porque ustedes, llevo""",
    },
    "demand": {
        "en": """refund*, money back, i want, i demand, demand*, fix this, fix your, fix it,
            compensat*, escalat*, speak to a manager, supervisor, reimburs*, make it right,
            cancel my, give me back""",
        "pt": """reembols*, estorn*, extorno, devolv* meu dinheiro, quero meu dinheiro,
            dinheiro de volta, exijo, exig*, resolvam, providenci*, indeniz*, ressarc*,
            quero o cancelamento, quero cancelar, devolvam""",
        "es": """reembols*, devolu*, devuelvan, quiero mi dinero, mi dinero, exijo, exig*, arreglen,
            compensac*, indemniz*, cancelen, que me devuelvan, quiero cancelar, solucionen""",
    },
    "went_wrong": {
        "en": """never ~ arrived, never received, never got, not received, havent ~ received,
            hasnt ~ arrived, didnt ~ arrive, didnt ~ receive, not ~ arriv*, not ~ deliver*, never ~ deliver*,
            wont ~ open, wont ~ load, wont ~ work, doesnt ~ work, dont work, not working,
            stopped working, isnt working, cant log*, cant access, unable to, crash*, broken,
            broke, damaged, defective, missing, wrong item, wrong order, lost, bug*, glitch*,
            error*, fail*, outage, delay*, late, still no, no response, no reply, no answer,
            ignored, ignoring, removed, took away, hack*, breach*, leak*, stolen, stole,
            locked out, cancelled my, canceled my""",
        "pt": """nao ~ cheg*, nao ~ recebi, nunca ~ cheg*, ainda nao, nao ~ entreg*, nao ~ funcion*,
            parou de funcionar, nao abre, nao consigo, fecha sozinho, trava*, bug*,
            erro*, falha*, defeit*, quebrad*, danificad*, avariad*, errad*, faltando,
            veio faltando, atras*, demor*, extraviad*, sumiu, bloque*, vazar*, vazament*,
            vazou, hacke*, invadi*, cancelaram, removeram, tiraram, nao respond*, nao retorn*,
            sem retorno, problema*""",
        "es": """no ~ lleg*, nunca ~ lleg*, no ~ recibi*, no ~ funciona, no sirve, no abre, no puedo, no me deja, se cierra, falla*, fallo,
            error*, bug*, caid*, roto, rota, danad*, defectuos*, equivocad*, incorrect*, faltan,
            retras*, demor*, perdid*, bloque*, hacke*, jaque*, filtr*, vulnera*, cancelaron,
            quitaron, eliminaron, no me atienden, no contest*, no respond*, problema*""",
    },
    "threat": {
        "en": """lawyer*, attorney*, sue, suing, lawsuit, legal action, small claims, court, bbb,
            better business bureau, attorney general, ftc, cfpb, consumer protection, report you,
            reporting you, chargeback, charge back, dispute*, file a claim,
            with my bank, my bank, never again, close my account, switching to,
            lost a customer""",
        "pt": """procon, processar, processo, justica, judicial, advogad*, juizado, pequenas causas,
            acao judicial, danos morais, consumidor gov, anatel, banco central, bacen, ouvidoria,
            denunci*, chargeback, contest*, codigo de defesa, meus direitos""",
        "es": """profeco, condusef, sernac, demanda*, demandar, abogad*, denunci*, juicio,
            tribunal*, accion legal, contracargo, desconoc*, aclaracion*, mis derechos,
            derechos del consumidor""",
    },
    "exposure": {
        "en": """reddit, twitter, tiktok, youtube, facebook, instagram, all over, everyone know*,
            news, press, journalist*, viral, bad review, one star, posting this, post this,
            public*, trustpilot, yelp""",
        "pt": """reclame aqui, reclameaqui, redes sociais, twitter, instagram, facebook, tiktok,
            youtube, imprensa, jornal*, expor, expondo, exposto, todo mundo, publicamente,
            divulgar, viraliz*""",
        "es": """redes sociales, twitter, facebook, instagram, tiktok, youtube, prensa, periodist*,
            publicar, viral, todo el mundo, exhibir, exponer, difundir""",
    },
    "charge": {
        "en": """charged ~ twice, double charg*, unauthori*, without my permission,
            without authori*, didnt authori*, never authori*, unknown charge*, charged me,
            charged for, overcharg*, extra charge*, hidden fee*, still charg*, keep charging,
            fraudulent, dont recogni*""",
        "pt": """cobr* ~ indevid*, indevid*, cobr* ~ duas vezes, cobr* ~ em dobro, duplicad*, me cobr*,
            cobraram, cobrou, nao reconhec*, nao autoriz*, sem autoriz*, sem minha autoriz*,
            desconhec*, debitad*, descontad*, valor errado, a mais""",
        "es": """cobr* ~ dos veces, cobro doble, doble cobro, me cobr*, me han cobrado,
            me habeis cobrado, indebid*, no autoriz*, sin autoriz*, sin mi autoriz*,
            no reconozco, no reconocido*, cobraron, de mas, no solicit*""",
    },
    "question": {
        "en": """how do i, how can i, how to, can you, could you, is it possible, do you, does it,
            where can i, what is, when will, would like to know, wondering, is there, any way to,
            which, what time, can i, will i, do i, should i, is it, are you able, is this,
            does this, what are, whats, how many, how much, how long, when is, where is,
            are there, any chance, just wondering, quick question, question, will my, will it,
            do you have, i was wondering""",
        "pt": """como faco, como posso, voces aceitam, aceitam, gostaria de saber, queria saber,
            qual, quando, posso, e possivel, tem como, duvida*, poderia, onde, onde encontro,
            preciso da, segunda via, pergunta, como, sera que, alguem sabe, voces tem,
            tem previsao, quanto, quanto tempo, consigo, e possivel, gostaria de""",
        "es": """como puedo, como hago, aceptan, puedo, se puede, quisiera saber, me gustaria, cual,
            cuando, donde, duda*, informacion, quisiera, pregunta, quiero saber, cuanto,
            cuanta, horario, me pudieran, me podrian, saber si, como, cuanto tiempo, tienen,
            hay forma, es posible, alguien sabe, podrian, quisiera saber, me gustaria saber""",
    },
    "praise": {
        "en": """thank*, love, great, awesome, amazing, excellent, perfect, appreciate*, happy,
            recommend*, best app, great app, great service, good service, easy to use, love it,
            love this, five stars, stars, well done, keep it up, very good, so easy""",
        "pt": """obrigad*, adorei, otim*, excelente, perfeit*, parabens, recomendo, rapid*, super,
            satisfeit*, gostei, amei, melhor app, melhor aplicativo, a melhor, muito bom, muito boa,
            facil, pratico, pratica, elogios, estrelas, nota dez, top, maravilhos*, confiavel,
            seguro, eficaz, eficiente""",
        "es": """gracias, excelente, genial, encant*, perfect*, recomiendo, rapid*, feliz, muy buena,
            muy bueno, buena app, buen servicio, excelente servicio, facil, practica, practico,
            estrellas, me encanta, la mejor, el mejor, eficiente, confiable""",
    },
    "solved": {
        "en": """resolved, sorted, fixed, all good, works now, thanks for fixing, no problems,
            no issues, never had a problem, never had any problem*, never had an issue,
            without any problem*, got it sorted, is good now""",
        "pt": """resolvid*, ja resolv*, deu certo, funcionou, nunca tive problema*, nao tive problema*,
            sem problema*, nenhum problema, sem erro*, nao tem mais, melhorou, resolvem rapido,
            correu tudo ok, tudo ok, tudo certo""",
        "es": """resuelto, solucionado, funciono, ya se soluciono, todo bien, sin problema*,
            ningun problema, nunca he tenido, no he tenido problema*, ya quedo, quedo solucionado,
            ya funciona""",
    },
}


def cues(kind: str, language: str) -> list[str]:
    """The cues of one kind in one language, each with single spaces between its words."""
    return [" ".join(cue.split()) for cue in CUES[kind][language].split(",") if cue.strip()]


# Topic words: whose ticket it is (finance, logistics, engineering, product, marketing,
# legal), never whether there is a dispute. Training never makes one of them a cue alone.
TOPICS: dict[str, str] = {
    "en": """invoice*, bill, billing, bills, payment*, pay, paid, charge, charges, card*, account*, money,
        order*, deliver*, package*, shipping, shipment*, app, apps, website, site, login, password*,
        feature*, update*, promo*, offer*, discount*, coupon*, deal*, contract*, terms, price*""",
    "pt": """fatura*, boleto*, pagamento*, pagar, pago, cobranca*, cartao, cartoes, conta, contas, dinheiro,
        pedido*, entrega*, encomenda*, pacote*, frete, app, aplicativo*, site, login, senha*,
        funcionalidade*, atualizacao*, promoc*, oferta*, desconto*, cupom, cupons, contrato*, preco*""",
    "es": """factura*, pago*, pagar, cobro*, cargo*, tarjeta*, cuenta*, dinero, pedido*, entrega*, envio*,
        paquete*, app, aplicacion*, sitio, pagina, login, contrasena*, funcion*, actualizacion*,
        promoc*, oferta*, descuento*, cupon*, contrato*, precio*""",
}


def topics(language: str) -> list[str]:
    return [" ".join(cue.split()) for cue in TOPICS[language].split(",") if cue.strip()]
