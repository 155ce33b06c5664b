# Sourced by the testbed scripts: `rpc METHOD PARAMS_JSON` calls the
# chopsticks node at $CHOPSTICKS_PORT (e.g. dev_newBlock) and prints the
# result; an RPC error fails it.
rpc() {
  node -e "fetch('http://127.0.0.1:$CHOPSTICKS_PORT',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({id:1,jsonrpc:'2.0',method:process.argv[1],params:JSON.parse(process.argv[2])})}).then(r=>r.json()).then(j=>{if(j.error){console.error(JSON.stringify(j.error));process.exit(1)}console.log(JSON.stringify(j.result))})" "$1" "$2"
}
