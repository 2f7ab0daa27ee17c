"""Hand-curated cues for the department scorer, per department and language (read by
train_department.py).

Written from the domain and the labelling guideline (tests/corpus/SOURCES.md), not from the
corpus: the words that say whose problem a dispute is. Same syntax as complaint_vocabulary.py:
cues are comma-separated and folded (no accents, no capitals, no apostrophes); a word ending in
`*` is a prefix; `~` between two words allows up to two others there.

Training learns one weight per department's list (so a cue the training texts never use still
points to its department) plus a correction per cue where the texts support one. The complaint
kinds that name an owner (a threat is Legal's, a public exposure is Marketing's, a charge is
Finance's) are features too; see train_department.py.
"""

from __future__ import annotations

DEPARTMENTS = ("finance", "legal", "engineering", "product", "marketing", "logistics", "management")

CUES: dict[str, dict[str, str]] = {
    "finance": {
        "en": """refund*, reimburs*, chargeback, charge back, charg*, overcharg*, invoice*, bill, billed,
            billing, payment*, paid, pay, fee, fees, interest, credit card, debit card, card, atm,
            deposit*, withdraw*, transfer*, balance, account, money, dollars, subscription*, renewal,
            my bank, bank, loan*, mortgage, credit report, statement, transaction*, cash, price,
            cost, amount, debit*, autopay, late fee, overdraft""",
        "pt": """reembols*, estorn*, extorno, cobr*, fatura*, boleto*, pagament*, pagar, pago, paguei,
            taxa*, juros, tarifa*, cartao, credito, debito, debitad*, descontad*, saque, deposit*,
            transferenc*, pix, saldo, conta, dinheiro, reais, valor*, mensalidade*, assinatura,
            banco, emprestimo*, financiamento, parcela*, limite, caixa eletronico, compra no cartao,
            lancament*, nota fiscal, anuidade, cashback""",
        "es": """reembols*, contracargo, cobr*, cargo*, factura*, pago*, pagar, pague, comision*,
            interes*, intereses, tarjeta*, credito, debito, cajero*, deposit*, retir*, transferenc*,
            saldo, cuenta, dinero, pesos, mensualidad*, suscripcion*, banco, prestamo*, meses sin
            intereses, estado de cuenta, movimiento*, compra*, monto, anualidad, devuelvan mi dinero,
            mi dinero, aclaracion*""",
    },
    "legal": {
        "en": """lawyer*, attorney*, lawsuit, sue, suing, legal, court, small claims, class action,
            contract*, terms of service, terms and conditions, terms, fine print, clause*, gdpr,
            privacy, personal data, data protection, discriminat*, consumer protection, cfpb, ftc,
            attorney general, better business bureau, bbb, regulator*, law, illegal, rights,
            cease and desist, violat*, credit bureau, identity theft""",
        "pt": """advogad*, processo, processar, justica, judicial, juizado, pequenas causas, acao,
            danos morais, procon, consumidor gov, contrato*, clausula*, termos, lgpd, dados
            pessoais, meus dados, privacidade, discrimin*, ilegal, lei, direitos, codigo de defesa,
            ministerio publico, notificacao, serasa, spc, negativa*, nome sujo, ouvidoria, bacen,
            banco central, anatel, aneel, abusiv*""",
        "es": """abogad*, demand*, juicio, tribunal*, juzgado, legal*, ilegal, ley, profeco,
            condusef, sernac, denunci*, contrato*, clausula*, terminos, condiciones, datos
            personales, mis datos, privacidad, discrimin*, derechos, buro de credito, buro,
            defensa del consumidor, proteccion al consumidor, autoridad*, accion legal,
            acciones legales, omic""",
    },
    "engineering": {
        "en": """app, apps, website, site, online, login, log in, sign in, password, code,
            verification, sms, otp, error*, bug*, crash*, glitch*, outage, down, server*, loading,
            load, update, updated, screen, blank, freez*, frozen, wifi, internet, connection,
            connect*, signal, network, hack*, technical, system, broken link, browser, software,
            firmware, device, phone, iphone, android, email, wont ~ open, wont ~ load, wont ~ work,
            doesnt ~ work, not working, stopped working, cant log*, cant access, keeps crashing""",
        "pt": """app, aplicativo, site, online, login, senha, token, codigo, sms, erro*, bug*, bugad*,
            trav*, fecha sozinho, caiu, fora do ar, instabilidade, sistema, tela, atualiz*,
            conect*, conexao, internet, wifi, sinal, rede, multimidia, central multimidia,
            bluetooth, software, celular, acesso, acessar, hack*, invadi*, falha*, defeit*,
            pane, luz de injecao, motor, cambio, eletric*, nao abre, nao ~ funciona, parou de funcionar,
            nao consigo acessar, nao consigo entrar""",
        "es": """app, aplicacion, pagina, sitio, web, en linea, banca movil, banca en linea, login,
            contrasena, clave, nip, token, codigo, sms, error*, bug*, falla*, fallo, se cae,
            caid*, no carga, no abre, se cierra, se traba, se bloquea, sistema, pantalla,
            actualiz*, conect*, conexion, internet, wifi, senal, red, celular, acceso, acceder,
            hack*, jaque*, tecnico, tecnica, no ~ funciona, no puedo entrar, no me deja entrar,
            dejo de funcionar""",
    },
    "product": {
        "en": """feature*, option*, dark mode, roadmap, please add, add a, would be nice, wish,
            bring back, you removed, removed, took away, no longer, not available, doesnt support,
            doesnt have, dont have, not supported, support for, missing feature, suggestion*,
            should have, should allow, why cant i, why doesnt, new version, redesign, layout,
            interface, ui, design, menu, setting*""",
        "pt": """funcionalidade*, funcao, opcao, opcoes, modo escuro, sugest*, deveria*, poderia ter,
            seria bom, seria otimo, removeram, tiraram, acabaram com, nao tem mais, nao tem,
            nao possui, nao oferece, nao aceita, disponivel, indisponivel, versao, nova versao,
            layout, interface, design, menu, recurso*, android auto, apple carplay, carplay,
            bluetooth, dda""",
        "es": """funcion*, opcion*, modo oscuro, sugerencia*, deberian, deberia, seria bueno,
            seria genial, quitaron, eliminaron, ya no, no tiene, no tienen, no permite, no acepta,
            disponible, version, nueva version, diseno, interfaz, menu, apple pay, google pay,
            no es compatible, compatible""",
    },
    "marketing": {
        "en": """promo*, promo code, discount*, coupon*, offer*, deal*, advertis*, ad, ads, advert,
            bait and switch, misleading, false advertising, black friday, bonus, reward*, points,
            cashback, free, twitter, facebook, instagram, tiktok, youtube, reddit, trustpilot,
            yelp, review, reviews, social media, everyone, public, viral, news, boycott,
            influencer*, hashtag, fail""",
        "pt": """promoc*, cupom, cupons, desconto*, oferta*, anunci*, propaganda, publicidade,
            enganos*, black friday, bonus, pontos, cashback, gratis, frete gratis, brinde,
            reclame aqui, reclameaqui, redes sociais, twitter, instagram, facebook, tiktok,
            youtube, youtuber, influenc*, todo mundo, publicamente, expor, divulg*, nao comprem,
            boicote, imagem, marca""",
        "es": """promoc*, cupon*, descuento*, oferta*, anunci*, publicidad, engan*, buen fin,
            black friday, bonificacion, puntos, cashback, gratis, envio gratis, regalo, redes
            sociales, twitter, facebook, instagram, tiktok, youtube, influencer*, todo el mundo,
            publico, exhibir, exponer, difundir, no se les ocurra, ni se os ocurra, no contraten,
            no compren, nocumple, fail""",
    },
    "logistics": {
        "en": """deliver*, arriv*, ship*, package*, parcel*, tracking, track, courier, carrier,
            usps, ups, fedex, dhl, return*, exchange, replacement, wrong item, wrong size, missing,
            damaged, broken, box, stock, out of stock, backorder*, order*, warehouse, pickup,
            pick up, driver, address, mail, mailed, lost, late, delay*, flight, luggage, baggage,
            bag, bags, seat, gate""",
        "pt": """entreg*, cheg*, envi*, pacote*, encomenda*, rastrei*, transportadora, correios,
            frete, devoluc*, devolver, troca*, trocar, produto errado, errad*, faltando, faltou,
            quebrad*, danificad*, avariad*, embalagem, caixa, estoque, esgotad*, pedido*, compra,
            produto*, peca*, pecas, concessionaria, oficina, prazo, atras*, extraviad*, endereco,
            retirada, loja, veio, recebi""",
        "es": """entreg*, lleg*, envi*, paquete*, paqueteria, pedido*, guia, rastreo, seguimiento,
            transportista, mensajeria, devoluc*, devolver, cambio, reposicion, reemplazo,
            equivocad*, incomplet*, falt*, roto, rota, danad*, caja, stock, agotad*, producto*,
            compra, plazo, retras*, demor*, perdid*, direccion, domicilio, sucursal, plastico,
            tarjeta nueva, reposicion de tarjeta, vuelo, maleta, equipaje""",
    },
    "management": {
        "en": """years as a customer, years with you, loyal customer, customer for, since,
            long time customer, ceo, president, executive, manager, supervisor, escalat*,
            nobody, no one, no response, no reply, ignored, ignoring, still waiting, weeks,
            months, again, times, every time, multiple times, several times, called, calls,
            hours on hold, on hold, customer service, support, worst, never again, vip,
            thousands, platinum, amex, business account""",
        "pt": """cliente ha, anos de cliente, cliente fiel, cliente desde, presidente, diretoria,
            diretor, gerente, ouvidoria, ninguem, nenhuma resposta, sem resposta, sem retorno,
            nao respond*, nao retorn*, descaso, desrespeito, meses, semanas, vezes, varias vezes,
            de novo, novamente, protocolo*, atendimento, atendente*, sac, liguei, ligacoes,
            pessimo atendimento, nunca mais, sr, senhor, prezado, valores altos, investi""",
        "es": """anos de ser cliente, anos como cliente, cliente de anos, cliente desde, director,
            ejecutivo, gerente, supervisor, nadie, sin respuesta, ninguna respuesta, no contestan,
            no responden, no me atienden, meses, semanas, veces, otra vez, de nuevo, reporte*,
            folio*, atencion, servicio al cliente, llame, llamadas, pesimo servicio, mal servicio,
            nunca mas, platinum, black, infinite, priority, patrimonial""",
    },
}


def cues(department: str, language: str) -> list[str]:
    """The cues of one department in one language, each with single spaces between its words."""
    return [" ".join(cue.split()) for cue in CUES[department][language].split(",") if cue.strip()]
