/*
 * Assistente virtual: widget de chat para o site da operadora.
 *
 * Uma linha basta (veja docs/widget.md):
 *   <script src="https://BACKEND/widget/widget.js" data-rasa-url="https://RASA" defer></script>
 *
 * Fala com o canal socketio do Rasa (protocolo Socket.IO v5) usando o cliente oficial
 * socket.io.min.js (MIT), servido ao lado deste arquivo e carregado só quando preciso.
 * Sem dependências, sem CDN, sem innerHTML: todo texto do assistente vira nós de texto.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__assistenteWidget) return; // precisa de <script> clássico; colado duas vezes: uma basta
  window.__assistenteWidget = true;

  var BASE = script.src.replace(/[^/]*(\?.*)?$/, "");
  var data = script.dataset;
  var HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
  var MAX_UPLOAD_MB = 10; // common/uploads.py MAX_UPLOAD_MB

  var config = {
    rasaUrl: (data.rasaUrl || location.protocol + "//" + location.hostname + ":5005").replace(/\/+$/, ""),
    socketPath: data.socketPath || "/socket.io/",
    title: data.title || "Assistente virtual",
    subtitle: data.subtitle || "",
    launcher: data.launcherLabel || "Fale com a gente",
    primary: HEX.test(data.primaryColor || "") ? data.primaryColor : "#00695c",
    attachments: data.attachments !== "false",
    initPayload: data.initPayload || "",
    maxUploadMb: Number(data.maxUploadMb) > 0 ? Math.min(Number(data.maxUploadMb), MAX_UPLOAD_MB) : MAX_UPLOAD_MB,
    startOpen: data.open === "true"
  };

  // a política de anexos (common/uploads.py), a mesma do canal e do backend: JPG, PNG ou PDF, planilhas em
  // CSV ou XLSX, até 10 MB; os tipos que o navegador pode dizer de um arquivo aceito (o Windows chama um CSV
  // de application/vnd.ms-excel: o canal lê os bytes e decide) e os textos são os dela, palavra por palavra
  // (tests/common/test_uploads.py confere)
  var UPLOAD_TYPES = ["image/jpeg", "image/png", "application/pdf", "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "image/jpg", "image/pjpeg",
    "application/x-pdf", "application/csv", "text/comma-separated-values", "text/x-csv",
    "text/x-comma-separated-values", "text/plain", "application/vnd.ms-excel"];
  // o seletor de arquivos: os tipos e as extensões (alguns sistemas não sabem o tipo de um .csv)
  var UPLOAD_ACCEPT = ["image/jpeg", "image/png", "application/pdf", "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".jpg", ".jpeg", ".png", ".pdf", ".csv",
    ".xlsx"];
  var TEXT_UNSUPPORTED = "Só consigo receber fotos (JPG ou PNG), PDF ou planilhas (CSV ou XLSX). Envie o arquivo " +
    "em um desses formatos.";
  var TEXT_TOO_LARGE = "O arquivo passa do limite de 10 MB. Envie um arquivo menor " +
    "(se precisar, mande uma foto de cada página ou divida a planilha).";
  var TEXT_EMPTY = "O arquivo chegou vazio. Envie de novo, por favor.";
  var UPLOAD_PATH = "/webhooks/socketio/upload";
  var UPLOAD_WAIT_MS = 30000;
  var MAX_HISTORY = 300; // mensagens lembradas na memória da página (nunca gravadas no navegador)
  var REPLY_TIMEOUT_MS = 60000;
  var KEY = "assistente-widget:" + config.rasaUrl + ":";

  /* ---------- armazenamento ----------
   * No navegador fica só o id da sessão, assinado pelo servidor (e se o chat está aberto): nenhuma
   * mensagem, nada do que a pessoa digitou. Recarregar a página retoma a mesma conversa no assistente,
   * mas as mensagens anteriores não voltam para a tela (docs/widget.md). */

  var store = {
    get: function (name) {
      try { return JSON.parse(window.localStorage.getItem(KEY + name)); } catch (e) { return null; }
    },
    set: function (name, value) {
      try { window.localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* cheio ou bloqueado */ }
    },
    remove: function (name) {
      try { window.localStorage.removeItem(KEY + name); } catch (e) { /* idem */ }
    }
  };

  store.remove("conversa"); // versões anteriores guardavam as mensagens aqui: apagadas
  var savedSession = store.get("sessao");
  var state = {
    sessionId: typeof savedSession === "string" ? savedSession : null,
    history: [],
    greeted: false,
    open: store.get("aberto") === true || config.startOpen,
    socket: null,
    ready: false,
    pending: [],
    uploading: false,
    typingTimer: null
  };

  function saveSession(id) {
    state.sessionId = id;
    if (id) store.set("sessao", id); else store.remove("sessao");
  }

  // A parte aleatória do id (antes do primeiro ponto): a mesma quando o servidor retoma a conversa.
  function conversationOf(id) { return typeof id === "string" ? id.split(".")[0] : null; }

  /* ---------- cores: texto sempre com contraste de pelo menos 4,5:1 ---------- */

  function luminance(hex) {
    var h = hex.replace("#", "");
    if (h.length === 3) h = h.replace(/./g, "$&$&");
    var rgb = [0, 2, 4].map(function (i) {
      var c = parseInt(h.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  var onPrimary = contrast(config.primary, "#ffffff") >= 4.5 ? "#ffffff" : "#111111";
  var accentText = contrast(config.primary, "#ffffff") >= 4.5 ? config.primary : "#1f2933";

  /* ---------- DOM ---------- */

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function safeUrl(value, allowData) {
    try {
      var url = new URL(String(value), location.href);
      if (url.protocol === "http:" || url.protocol === "https:") return url.href;
      if (allowData && url.protocol === "data:" && /^data:image\/(png|jpeg|gif|webp);/i.test(url.href)) return url.href;
    } catch (e) { /* inválida */ }
    return null;
  }

  // Texto com quebras de linha (CSS pre-wrap) e links http(s) clicáveis, sem interpretar HTML.
  var URL_RE = /https?:\/\/[^\s<>"']+/g;
  function richText(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    String(text).replace(URL_RE, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]]+$/, "");
      fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      var href = safeUrl(url);
      fragment.appendChild(href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: url })
        : document.createTextNode(url));
      last = offset + url.length;
      return match;
    });
    fragment.appendChild(document.createTextNode(String(text).slice(last)));
    return fragment;
  }

  // Ícones em SVG (desenhados aqui): não dependem de fonte de emoji no aparelho.
  var ICONS = {
    conversa: ["M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4V5a2 2 0 0 1 0-2z", true],
    clipe: ["M16.5 6.5l-7.8 7.8a2 2 0 0 0 2.8 2.8l8-8a4 4 0 0 0-5.7-5.7l-8.3 8.3a6 6 0 0 0 8.5 8.5l6.5-6.5"],
    documento: ["M6 2h8l5 5v15H6zM14 2v5h5M9 13h7M9 17h7"],
    link: ["M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"],
    enviar: ["M3 20l18-8L3 4v6l12 2-12 2z", true],
    fechar: ["M6 6l12 12M18 6L6 18"],
    nova: ["M20 12a8 8 0 1 1-2.3-5.7M20 4v5h-5"]
  };
  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "ic" + (ICONS[name][1] ? " cheio" : ""));
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name][0]);
    svg.appendChild(path);
    return svg;
  }

  var host = el("div", { id: "assistente-widget" });
  host.style.setProperty("--rw-primary", config.primary);
  host.style.setProperty("--rw-on-primary", onPrimary);
  host.style.setProperty("--rw-accent-text", accentText);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

  var launcher = el("button", {
    type: "button", className: "launcher", "aria-expanded": "false", "aria-controls": "rw-painel",
    onclick: function () { setOpen(!state.open); }
  }, [icon("conversa"), el("span", { text: config.launcher })]);

  var status = el("span", { className: "estado", text: config.subtitle });
  var log = el("div", {
    className: "mensagens", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": "Conversa com o assistente", tabindex: "0"
  });
  var typing = el("div", { className: "digitando", role: "status", "aria-live": "polite" });
  var notice = el("p", { className: "aviso", role: "status", "aria-live": "polite" });
  var input = el("input", {
    id: "rw-mensagem", type: "text", autocomplete: "off", maxlength: "1000", enterkeyhint: "send",
    placeholder: "Digite sua mensagem"
  });
  var fileInput = el("input", {
    type: "file", className: "oculto", accept: UPLOAD_ACCEPT.join(","), tabindex: "-1", "aria-hidden": "true",
    onchange: function () {
      var file = fileInput.files && fileInput.files[0];
      fileInput.value = "";
      if (file) uploadFile(file);
    }
  });
  var attach = el("button", {
    type: "button", className: "anexar", "aria-label": "Anexar arquivo (foto, PDF ou planilha)", title: "Anexar arquivo",
    onclick: function () { if (!state.uploading) fileInput.click(); }
  }, [icon("clipe")]);
  var form = el("form", {
    className: "composicao", "aria-label": "Enviar mensagem",
    onsubmit: function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) { input.focus(); return; }
      input.value = "";
      sendText(text, text);
      input.focus();
    }
  }, [
    attach, fileInput,
    el("label", { className: "sr", "for": "rw-mensagem", text: "Mensagem para o assistente" }),
    input,
    el("button", { type: "submit", className: "enviar", "aria-label": "Enviar mensagem", title: "Enviar" },
       [icon("enviar")])
  ]);

  var panel = el("section", {
    id: "rw-painel", className: "painel", role: "dialog", "aria-labelledby": "rw-titulo", hidden: true,
    onkeydown: onPanelKey
  }, [
    el("header", { className: "topo" }, [
      el("div", { className: "titulos" }, [el("h2", { id: "rw-titulo", text: config.title }), status]),
      el("button", {
        type: "button", className: "icone", "aria-label": "Começar uma nova conversa", title: "Nova conversa",
        onclick: restart
      }, [icon("nova")]),
      el("button", {
        type: "button", className: "icone fechar", "aria-label": "Fechar o chat", title: "Fechar",
        onclick: function () { setOpen(false); }
      }, [icon("fechar")])
    ]),
    log, typing, notice, form
  ]);

  root.appendChild(el("link", { rel: "stylesheet", href: BASE + "widget.css" }));
  root.appendChild(el("div", { className: "rw" }, [panel, launcher]));

  /* ---------- mensagens ---------- */

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function bubble(entry) {
    var who = entry.de === "usuario" ? "Você" : entry.de === "sistema" || entry.de === "nota" ? "Aviso" : "Assistente";
    var body = el("div", { className: "balao" }, [el("span", { className: "sr", text: who + ": " })]);
    if (entry.tipo === "imagem") {
      var src = safeUrl(entry.url, true);
      if (entry.legenda) body.appendChild(el("p", { className: "legenda" }, [richText(entry.legenda)]));
      if (src) body.appendChild(el("img", { src: src, alt: entry.alt || "Imagem enviada pelo assistente", loading: "lazy" }));
    } else if (entry.tipo === "documento" || entry.tipo === "link") {
      var href = safeUrl(entry.url);
      if (entry.texto) body.appendChild(el("p", { className: "legenda" }, [richText(entry.texto)]));
      if (href) {
        var isDoc = entry.tipo === "documento";
        body.appendChild(el("a", {
          className: isDoc ? "documento" : "link", href: href, target: "_blank", rel: "noopener noreferrer",
          download: isDoc ? (entry.arquivo || "") : null
        }, [icon(isDoc ? "documento" : "link"),
            (isDoc ? "Baixar " : "") + (entry.arquivo || entry.titulo || (isDoc ? "documento" : entry.url))]));
      }
    } else if (entry.tipo === "arquivo") {
      body.appendChild(icon("clipe"));
      body.appendChild(document.createTextNode(entry.texto || ""));
    } else {
      body.appendChild(richText(entry.texto || ""));
    }
    var node = el("div", { className: "msg " + (entry.de || "bot") + (entry.enviando ? " enviando" : "") }, [body]);
    if (entry.botoes && entry.botoes.length) node.appendChild(quickReplies(entry));
    return node;
  }

  function quickReplies(entry) {
    var group = el("div", { className: "opcoes", role: "group", "aria-label": "Opções de resposta" });
    entry.botoes.forEach(function (option) {
      var chosen = entry.escolha === option.title;
      group.appendChild(el("button", {
        type: "button", className: chosen ? "escolhido" : null, disabled: !!entry.usado,
        "aria-pressed": entry.usado ? String(chosen) : null, text: option.title,
        onclick: function () {
          entry.escolha = option.title;
          sendText(option.payload || option.title, option.title);
        }
      }));
    });
    entry.node = group;
    return group;
  }

  function closeQuickReplies() {
    state.history.forEach(function (entry) {
      if (!entry.botoes || entry.usado) return;
      entry.usado = true;
      var group = entry.node;
      if (!group) return;
      Array.prototype.forEach.call(group.children, function (button) {
        button.disabled = true;
        button.setAttribute("aria-pressed", String(button.textContent === entry.escolha));
        if (button.textContent === entry.escolha) button.className = "escolhido";
      });
    });
  }

  // options.volatile: avisos locais, que não entram na lista de mensagens com botões.
  function add(entry, options) {
    options = options || {};
    if (!options.volatile) {
      state.history.push(entry);
      if (state.history.length > MAX_HISTORY) state.history = state.history.slice(-MAX_HISTORY);
    }
    var node = bubble(entry);
    log.appendChild(node);
    scrollDown();
    return node;
  }

  /* ---------- o que chega do assistente (evento bot_uttered) ---------- */

  function fromBot(message) {
    hideTyping();
    if (!message || typeof message !== "object") return;
    if (message.custom && typeof message.custom === "object") message = message.custom;
    var buttons = (message.quick_replies || message.buttons || []).filter(function (b) { return b && b.title; })
      .map(function (b) { return { title: String(b.title), payload: String(b.payload || b.title) }; });
    var attachment = message.attachment;
    switch (message.type) { // mensagens custom (json_message das ações, embrulhado em "data")
      case "document":
        add({ de: "bot", tipo: "documento", url: message.url, arquivo: message.filename, texto: message.caption });
        return;
      case "link":
        add({ de: "bot", tipo: "link", url: message.url, titulo: message.title, texto: message.caption });
        return;
      case "image":
        add({ de: "bot", tipo: "imagem", url: message.url, legenda: message.caption, alt: message.alt });
        return;
      case "upload": // versões antigas: o botão de anexo agora está sempre lá
        if (message.text) add({ de: "bot", texto: message.text });
        return;
    }
    if (message.text || buttons.length) {
      add({ de: "bot", texto: message.text || "", botoes: buttons.length ? buttons : null });
    }
    if (message.image) add({ de: "bot", tipo: "imagem", url: message.image });
    if (attachment && typeof attachment === "object") {
      var payload = attachment.payload || {};
      var source = payload.src || payload.url;
      if (attachment.type === "image") add({ de: "bot", tipo: "imagem", url: source });
      else if (source) add({ de: "bot", tipo: "documento", url: source, arquivo: payload.filename || payload.name });
    }
  }

  /* ---------- conexão (Socket.IO com o canal socketio do Rasa) ---------- */

  function loadClient(done) {
    if (typeof window.io === "function") return done();
    var amd = window.define && window.define.amd ? window.define : null;
    if (amd) window.define = undefined; // o cliente UMD iria para o AMD do site em vez de window.io
    var tag = el("script", { src: BASE + "socket.io.min.js", async: true });
    tag.onload = function () { if (amd) window.define = amd; done(); };
    tag.onerror = function () {
      if (amd) window.define = amd;
      showNotice("Não consegui carregar o chat. Verifique sua conexão e recarregue a página.");
    };
    document.head.appendChild(tag);
  }

  function connect() {
    if (state.socket) return;
    state.socket = true; // conectando
    loadClient(function () {
      var socket = window.io(config.rasaUrl, {
        path: config.socketPath, transports: ["websocket", "polling"], tryAllTransports: true,
        reconnectionDelayMax: 10000
      });
      state.socket = socket;
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: state.sessionId });
      });
      socket.on("session_confirm", function (answer) {
        var id = typeof answer === "string" ? answer : answer && answer.session_id;
        if (!id) return;
        var asked = state.sessionId;
        var resumed = !!asked && conversationOf(asked) === conversationOf(id);
        saveSession(id);
        state.ready = true;
        showNotice("");
        status.textContent = config.subtitle || "Online";
        if (resumed) {
          if (!state.greeted && !log.firstChild) {
            add({ de: "nota", texto: "Conversa retomada. Por segurança, as mensagens anteriores não ficam salvas neste aparelho." },
                { volatile: true });
          }
          state.greeted = true;
        } else if (asked) { // id vencido ou recusado: o servidor começou outra conversa
          state.greeted = false;
          if (log.firstChild) add({ de: "nota", texto: "Sua conversa expirou. Começamos uma nova." }, { volatile: true });
        }
        var queued = state.pending.splice(0);
        queued.forEach(emitUser);
        if (state.open) greet();
      });
      socket.on("bot_uttered", fromBot);
      socket.on("disconnect", function () {
        state.ready = false;
        status.textContent = "Reconectando\u2026";
      });
      socket.on("connect_error", function () {
        state.ready = false;
        showNotice("Sem conexão com o assistente. Tentando de novo\u2026");
      });
    });
  }

  function emitUser(item) {
    if (!state.ready || !state.socket || state.socket === true) { state.pending.push(item); connect(); return; }
    var body = { message: item.message, session_id: state.sessionId };
    if (item.metadata) body.metadata = item.metadata;
    state.socket.emit("user_uttered", body);
  }

  function sendText(message, shown, metadata) {
    closeQuickReplies();
    state.greeted = true; // quem já escreveu não recebe a saudação automática
    if (shown) add({ de: "usuario", texto: shown });
    showTyping();
    emitUser({ message: message, metadata: metadata });
  }

  // A saudação (data-init-payload) só numa conversa nova: o servidor diz se retomou a anterior.
  function greet() {
    if (state.greeted || !state.ready || !config.initPayload) return;
    state.greeted = true;
    showTyping();
    emitUser({ message: config.initPayload });
  }

  function restart() {
    if (state.socket && state.socket !== true) state.socket.disconnect();
    state.ready = false;
    saveSession(null);
    state.history = [];
    state.greeted = false;
    state.pending = [];
    while (log.firstChild) log.removeChild(log.firstChild);
    hideTyping();
    if (state.socket && state.socket !== true) state.socket.connect();
    else connect();
    input.focus();
  }

  /* ---------- digitando, avisos ---------- */

  function showTyping() {
    typing.textContent = "";
    typing.appendChild(el("span", { className: "pontos", "aria-hidden": "true" },
      [el("span"), el("span"), el("span")]));
    typing.appendChild(el("span", { className: "texto", text: "O assistente está digitando\u2026" }));
    typing.classList.add("ativo");
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(function () {
      hideTyping();
      if (!state.ready) showNotice("Sem conexão com o assistente. Sua mensagem será enviada quando a conexão voltar.");
    }, REPLY_TIMEOUT_MS);
  }

  function hideTyping() {
    clearTimeout(state.typingTimer);
    typing.classList.remove("ativo");
    typing.textContent = "";
  }

  function showNotice(text) { notice.textContent = text; }

  /* ---------- envio de arquivos (documentos do reembolso, planilhas de movimentação) ---------- */

  // O arquivo vai para o canal socket.io do Rasa (POST multipart com o id da sessão), que o entrega ao
  // backend como os canais de WhatsApp e Telegram e devolve só um id; a mensagem "/enviar_documento" leva
  // esse id em metadata.upload_ids e o canal o troca pelo anexo antes de o assistente ver (docs/widget.md).
  function uploadFile(file) {
    if (state.uploading) return;
    if (file.type && UPLOAD_TYPES.indexOf(file.type) < 0) {
      add({ de: "sistema", texto: TEXT_UNSUPPORTED }, { volatile: true });
      return;
    }
    if (file.size > config.maxUploadMb * 1024 * 1024) {
      add({ de: "sistema", texto: TEXT_TOO_LARGE.replace("10 MB", config.maxUploadMb + " MB") }, { volatile: true });
      return;
    }
    if (!file.size) {
      add({ de: "sistema", texto: TEXT_EMPTY }, { volatile: true });
      return;
    }
    closeQuickReplies();
    setUploading(true);
    var entry = { de: "usuario", tipo: "arquivo", texto: "Enviando " + file.name + "\u2026", enviando: true };
    var node = add(entry, { volatile: true });

    var fail = function (text) {
      setUploading(false);
      if (node.parentNode) node.parentNode.removeChild(node);
      add({ de: "sistema", texto: text || "Não consegui enviar o arquivo. Tente de novo em instantes." },
          { volatile: true });
    };
    var waited = 0;
    var whenReady = function (go) {
      if (state.ready && state.sessionId) return go();
      connect();
      waited += 300;
      if (waited > UPLOAD_WAIT_MS) return fail("Sem conexão com o assistente. Tente enviar o arquivo de novo daqui a pouco.");
      setTimeout(function () { whenReady(go); }, 300);
    };
    whenReady(function () {
      var body = new FormData();
      body.append("session_id", state.sessionId);
      body.append("file", file, file.name);
      fetch(config.rasaUrl + UPLOAD_PATH, { method: "POST", body: body, credentials: "omit", mode: "cors" })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            if (!response.ok || !answer.upload_id) return fail(answer.error && answer.error.message);
            setUploading(false);
            var fresh = bubble({ de: "usuario", tipo: "arquivo", texto: "Arquivo enviado: " + file.name });
            if (node.parentNode) node.parentNode.replaceChild(fresh, node); else log.appendChild(fresh);
            scrollDown();
            showTyping();
            emitUser({ message: "/enviar_documento", metadata: { upload_ids: [answer.upload_id] } });
            host.dispatchEvent(new CustomEvent("assistente-widget:documento", { bubbles: true, detail: {
              arquivo: answer.filename || file.name, tipo: answer.content_type || file.type, tamanho: answer.size } }));
          });
        }, function () {
          fail("Não consegui enviar o arquivo. Verifique sua conexão e tente de novo.");
        });
    });
  }

  function setUploading(busy) {
    state.uploading = busy;
    attach.setAttribute("aria-disabled", String(busy)); // não "disabled": o foco do teclado fica no botão
    attach.setAttribute("aria-busy", String(busy));
  }

  /* ---------- abrir, fechar, teclado ---------- */

  var narrow = window.matchMedia ? window.matchMedia("(max-width: 480px)") : { matches: false };

  function setOpen(open, restoring) {
    state.open = open;
    store.set("aberto", open);
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    host.toggleAttribute("data-aberto", open);
    if (open) {
      connect();
      greet();
      scrollDown();
      if (!restoring) input.focus();
    } else if (!restoring) {
      launcher.focus();
    }
  }

  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("button, input:not(.oculto), a[href], [tabindex='0']"),
      function (node) { return !node.disabled && !node.hidden && node.offsetParent !== null; });
  }

  function onPanelKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false);
      return;
    }
    if (event.key === "Tab" && narrow.matches) { // tela cheia: o foco não sai para a página coberta
      var items = focusables();
      if (!items.length) return;
      var active = root.activeElement || document.activeElement;
      if (event.shiftKey && active === items[0]) { event.preventDefault(); items[items.length - 1].focus(); }
      else if (!event.shiftKey && active === items[items.length - 1]) { event.preventDefault(); items[0].focus(); }
    }
  }

  /* ---------- início ---------- */

  attach.hidden = !config.attachments;

  function mount() {
    document.body.appendChild(host);
    if (state.open) setOpen(true, true);
    else if (state.sessionId) connect(); // respostas que cheguem com o chat fechado não se perdem
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  // Para o site da operadora: abrir/fechar por código (ex.: um link "Fale com a gente" no menu).
  window.AssistenteWidget = {
    abrir: function () { setOpen(true); },
    fechar: function () { setOpen(false); },
    novaConversa: restart
  };
})();
