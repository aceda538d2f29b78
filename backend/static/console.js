/* Call-centre console (/atendente): login, live queue (Server-Sent Events), claim, conversation and
   customer context, reply, close. Plain JS, no external resources; every value goes in as text. */
(function () {
  "use strict";
  var TOKEN_KEY = "atendenteToken";
  var state = { token: sessionStorage.getItem(TOKEN_KEY), me: null, tickets: [], selected: null,
                detail: null, offset: 0, events: null };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (state.token) { headers.Authorization = "Bearer " + state.token; }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        if (response.status === 204) { return { status: 204, data: {} }; }
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.status === 401 && path !== "/api/agent/login") { showLogin("Sua sessão terminou. Entre de novo."); }
          return { status: response.status, data: data };
        });
      });
  }

  function errorText(result, fallback) {
    var error = result.data && result.data.error;
    if (!error) { return fallback; }
    if (error.fields) {
      return Object.keys(error.fields).map(function (key) { return error.fields[key]; }).join(" ");
    }
    return error.message || fallback;
  }

  function waited(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) { return seconds + " s"; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + " min"; }
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function serverNow() { return Date.now() + state.offset; }

  function waitOf(ticket) {
    var start = Date.parse(ticket.created_at);
    var end = ticket.claimed_at ? Date.parse(ticket.claimed_at) : serverNow();
    return (end - start) / 1000;
  }

  function timeOf(iso) {
    if (!iso) { return ""; }
    var date = new Date(iso);
    return date.toLocaleTimeString("pt-BR", { hour: "2-digit", minute: "2-digit" });
  }

  // --- login ---------------------------------------------------------------------------------

  function showLogin(message) {
    stopEvents();
    state.token = null; state.me = null; state.selected = null; state.detail = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("tela-console").hidden = true;
    $("tela-login").hidden = false;
    $("sair").hidden = true;
    $("agente").textContent = "";
    $("status-conexao").textContent = "";
    $("erro-login").textContent = message || "";
    $("usuario").focus();
  }

  function showConsole() {
    $("tela-login").hidden = true;
    $("tela-console").hidden = false;
    $("sair").hidden = false;
    $("agente").textContent = state.me.name;
    startEvents();
  }

  function start() {
    if (!state.token) { showLogin(""); return; }
    api("GET", "/api/agent/me").then(function (result) {
      if (result.status === 200) { state.me = result.data; showConsole(); } else { showLogin(""); }
    }).catch(function () { showLogin("Não consegui falar com o servidor. Tente de novo."); });
  }

  $("form-login").addEventListener("submit", function (event) {
    event.preventDefault();
    var username = $("usuario").value.trim(), password = $("senha").value;
    if (!username || !password) { $("erro-login").textContent = "Informe o usuário e a senha."; return; }
    $("erro-login").textContent = "";
    api("POST", "/api/agent/login", { username: username, password: password }).then(function (result) {
      if (result.status !== 200) {
        $("erro-login").textContent = errorText(result, "Não foi possível entrar.");
        return;
      }
      $("senha").value = "";
      state.token = result.data.token;
      sessionStorage.setItem(TOKEN_KEY, state.token);
      start();
    }).catch(function () { $("erro-login").textContent = "Não consegui falar com o servidor. Tente de novo."; });
  });

  $("sair").addEventListener("click", function () {
    api("POST", "/api/agent/logout").finally(function () { showLogin(""); });
  });

  // --- queue (Server-Sent Events) ------------------------------------------------------------

  function stopEvents() {
    if (state.events) { state.events.close(); state.events = null; }
  }

  function startEvents() {
    stopEvents();
    var source = new EventSource("/api/agent/events?access_token=" + encodeURIComponent(state.token));
    state.events = source;
    source.addEventListener("open", function () { $("status-conexao").textContent = "fila ao vivo"; });
    source.addEventListener("queue", function (event) {
      var data = JSON.parse(event.data);
      state.offset = Date.parse(data.now) - Date.now();
      state.tickets = data.tickets;
      $("status-conexao").textContent = "fila ao vivo · " + data.agents_online + " atendente(s) on-line";
      renderQueue();
      refreshSelected();
    });
    source.addEventListener("logout", function () { showLogin("Sua sessão terminou. Entre de novo."); });
    source.addEventListener("error", function () {
      $("status-conexao").textContent = "reconectando…";
      if (source.readyState === EventSource.CLOSED) {
        api("GET", "/api/agent/me").then(function (result) { if (result.status === 200) { startEvents(); } });
      }
    });
  }

  function renderQueue() {
    var list = $("fila");
    list.textContent = "";
    var waiting = state.tickets.filter(function (t) { return t.status === "open"; }).length;
    $("contagem").textContent = waiting ? "(" + waiting + " aguardando)" : "";
    $("fila-vazia").hidden = state.tickets.length > 0;
    state.tickets.forEach(function (ticket) {
      var item = el("li", "ticket " + ticket.status + (ticket.id === state.selected ? " selecionado" : ""));
      var button = el("button", "abrir");
      button.type = "button";
      button.dataset.ticket = ticket.id;
      button.appendChild(el("strong", null, ticket.beneficiary_name || "Cliente não identificado"));
      button.appendChild(el("span", "motivo", ticket.reason));
      var meta = el("span", "meta");
      meta.appendChild(el("span", "canal", ticket.channel_label));
      var status = ticket.status === "open" ? "aguardando (" + ticket.position + "º)" :
        "com " + (ticket.agent_id === state.me.id ? "você" : (ticket.agent_name || "atendente"));
      meta.appendChild(el("span", "situacao", status));
      var wait = el("span", "espera", waited(waitOf(ticket)));
      wait.dataset.ticket = ticket.id;
      wait.title = "tempo de espera";
      meta.appendChild(wait);
      if (ticket.callback) { meta.appendChild(el("span", "retorno", "retornar contato")); }
      button.appendChild(meta);
      button.addEventListener("click", function () { select(ticket.id); });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll(".espera"), function (node) {
      var ticket = state.tickets.filter(function (t) { return String(t.id) === node.dataset.ticket; })[0];
      if (ticket) { node.textContent = waited(waitOf(ticket)); }
    });
  }, 1000);

  // --- one ticket ----------------------------------------------------------------------------

  function select(id) {
    state.selected = id;
    state.detail = null;
    $("aviso").textContent = "";
    renderQueue();
    loadDetail();
  }

  function refreshSelected() {
    if (!state.selected || !state.detail) { return; }
    var summary = state.tickets.filter(function (t) { return t.id === state.selected; })[0];
    var shown = state.detail.ticket;
    if (!summary || summary.messages !== shown.messages || summary.status !== shown.status ||
        summary.agent_id !== shown.agent_id) {
      loadDetail();
    }
  }

  function loadDetail() {
    var id = state.selected;
    if (!id) { return; }
    api("GET", "/api/agent/tickets/" + id).then(function (result) {
      if (id !== state.selected) { return; }
      if (result.status !== 200) { $("aviso").textContent = errorText(result, "Não consegui abrir o atendimento."); return; }
      state.detail = result.data;
      renderDetail();
    });
  }

  function renderDetail() {
    var detail = state.detail, ticket = detail.ticket;
    var mine = ticket.status === "in_progress" && ticket.agent_id === state.me.id;
    $("sem-selecao").hidden = true;
    $("detalhe").hidden = false;
    $("titulo").textContent = ticket.beneficiary_name || "Cliente não identificado";
    $("subtitulo").textContent = "Protocolo " + ticket.protocol + " · " + ticket.channel_label + " · " +
      ticket.status_label + " · motivo: " + ticket.reason;
    $("assumir").hidden = ticket.status !== "open";
    $("form-resposta").hidden = !mine;
    $("form-encerrar").hidden = !mine;
    if (ticket.status === "closed") {
      $("aviso").textContent = "Atendimento encerrado" + (ticket.resolution ? ": " + ticket.resolution : ".");
    } else if (ticket.status === "in_progress" && !mine) {
      $("aviso").textContent = "Este atendimento está com " + (ticket.agent_name || "outro atendente") + ".";
    }
    renderMessages(detail);
    renderContext(detail.context);
  }

  function renderMessages(detail) {
    var list = $("mensagens");
    list.textContent = "";
    if (detail.transcript.length) {
      list.appendChild(el("li", "separador", "Conversa com o assistente antes da transferência"));
    }
    detail.transcript.forEach(function (item) {
      var node = el("li", "msg " + (item.from === "user" ? "cliente" : "assistente"));
      node.appendChild(el("span", "quem", item.from === "user" ? "Cliente" : "Assistente"));
      node.appendChild(el("span", "texto", item.text));
      list.appendChild(node);
    });
    list.appendChild(el("li", "separador", "Atendimento humano"));
    detail.messages.forEach(function (message) {
      if (message.from === "system") { list.appendChild(el("li", "sistema", message.text + " · " + timeOf(message.at))); return; }
      var node = el("li", "msg " + (message.from === "user" ? "cliente" : "atendente"));
      var who = message.from === "user" ? "Cliente" : (message.agent_name || "Atendente");
      node.appendChild(el("span", "quem", who + " · " + timeOf(message.at)));
      node.appendChild(el("span", "texto", message.text));
      if (message.from === "agent" && !message.delivered) { node.appendChild(el("span", "falha", "não entregue")); }
      list.appendChild(node);
    });
    list.scrollTop = list.scrollHeight;
  }

  function row(dl, term, value) {
    if (value === null || value === undefined || value === "") { return; }
    dl.appendChild(el("dt", null, term));
    dl.appendChild(el("dd", null, value));
  }

  function renderContext(context) {
    var box = $("contexto");
    box.textContent = "";
    if (!context) {
      box.appendChild(el("p", "vazio", "O cliente não confirmou a identidade com o assistente. " +
        "Se precisar de dados do plano, confirme a identidade pelo procedimento da central."));
      return;
    }
    var dl = el("dl", "dados");
    row(dl, "Nome", context.name);
    row(dl, "Carteirinha", context.card_number);
    row(dl, "CPF", context.cpf_masked);
    row(dl, "Vínculo", context.relationship_label + (context.holder_name && context.relationship !== "holder" ? " de " + context.holder_name : ""));
    row(dl, "Plano", context.plan.name + " (" + context.plan.segmentation + ", " + context.plan.accommodation + ")");
    row(dl, "Situação", context.plan_status_label);
    row(dl, "E-mail", context.email_masked);
    row(dl, "Telefone", context.phone_masked);
    box.appendChild(dl);
    box.appendChild(el("h3", null, "Mensalidades em aberto"));
    if (!context.open_fees.length) { box.appendChild(el("p", "vazio", "Nenhuma.")); }
    var fees = el("ul", "lista");
    context.open_fees.forEach(function (fee) {
      fees.appendChild(el("li", fee.status, fee.reference_month + " · " + fee.amount + " · vence " + fee.due_date + " · " + fee.status_label));
    });
    box.appendChild(fees);
    box.appendChild(el("h3", null, "Protocolos recentes"));
    if (!context.recent_protocols.length) { box.appendChild(el("p", "vazio", "Nenhum.")); }
    var protocols = el("ul", "lista");
    context.recent_protocols.forEach(function (p) {
      protocols.appendChild(el("li", null, p.protocol + " · " + p.kind_label + " · " + p.status_label + " · " + p.created_on));
    });
    box.appendChild(protocols);
  }

  $("assumir").addEventListener("click", function () {
    var id = state.selected;
    api("POST", "/api/agent/tickets/" + id + "/claim").then(function (result) {
      $("aviso").textContent = result.status === 200 ? "" : errorText(result, "Não consegui assumir.");
      loadDetail();
    });
  });

  $("form-resposta").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("texto").value.trim();
    if (!text) { return; }
    var id = state.selected;
    api("POST", "/api/agent/tickets/" + id + "/messages", { text: text }).then(function (result) {
      if (result.status === 201) { $("texto").value = ""; $("aviso").textContent = ""; }
      else { $("aviso").textContent = errorText(result, "A mensagem não foi enviada."); }
      loadDetail();
    });
  });

  $("texto").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("form-resposta").requestSubmit(); }
  });

  $("form-encerrar").addEventListener("submit", function (event) {
    event.preventDefault();
    var resolution = $("resolucao").value.trim();
    if (!resolution) { $("aviso").textContent = "Descreva a resolução antes de encerrar."; $("resolucao").focus(); return; }
    var id = state.selected;
    api("POST", "/api/agent/tickets/" + id + "/close", { resolution: resolution }).then(function (result) {
      if (result.status === 200) { $("resolucao").value = ""; }
      else { $("aviso").textContent = errorText(result, "Não consegui encerrar."); }
      loadDetail();
    });
  });

  start();
}());
