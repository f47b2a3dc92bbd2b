import os, json, re, sys, math, collections
import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from common import ROOT, D, lex, mpqa, TOK, norm
hold=set(open(os.path.join(ROOT, 'training', 'tc_holdout_ids.txt')).read().split())
docs=[json.loads(l) for l in open(D+'ptc/train.jsonl')]
FEATS=set(sys.argv[1].split(',')) if len(sys.argv)>1 else set()
def feats(doc, toks, a, b, counts, sents):
    f=['bias']
    span=toks[a:b]
    ws=[t[2] for t in span]
    for i,w in enumerate(ws):
        f.append('w:'+w)
        if i+1<len(ws): f.append('b:'+w+' '+ws[i+1])
        for tag in lex.get(w,()): f.append('lx:'+tag)
        if 'mpqa' in FEATS:
            for tag in mpqa.get(w,()): f.append('mq:'+tag)
        if span[i][3].isupper() and len(span[i][3])>1: f.append('caps')
    if ws: f+=['first:'+ws[0],'last:'+ws[-1]]
    n=len(ws); f.append('len:'+('1' if n<=1 else '2' if n==2 else '3' if n==3 else '4-6' if n<=6 else '7-12' if n<=12 else '13+'))
    for k,p in [(-2,'l2:'),(-1,'l1:')]:
        j=a+k; f.append(p+(toks[j][2] if j>=0 else '<s>'))
    for k,p in [(0,'r1:'),(1,'r2:')]:
        j=b+k; f.append(p+(toks[j][2] if j<len(toks) else '</s>'))
    key=' '.join(w for w in ws if re.match(r'\w',w))
    rep=counts.get(key,1)
    f.append('rep:'+('1' if rep<=1 else '2' if rep==2 else '3+'))
    if 'ctx' in FEATS:
        # words of the sentence(s) around the span
        s0=max(i for i,(x,y) in enumerate(sents) if x<=a); 
        for t in toks[sents[s0][0]:sents[s0][1]]:
            f.append('s:'+t[2])
    if 'char' in FEATS:
        txt=(" "+" ".join(ws)+" ") if "pad" in FEATS else " ".join(ws)
        for n_ in ((2,3,4,5,6) if "wide" in FEATS else (3,4,5)):
            for i in range(len(txt)-n_+1): f.append('c:'+txt[i:i+n_])
    if 'pos' in FEATS:
        s0=max(i for i,(x,y) in enumerate(sents) if x<=a)
        f.append('sent0' if s0==0 else 'sentN')
        f.append('sstart' if a==sents[s0][0] else 'smid')
        f.append('send' if b>=sents[s0][1]-1 else 'smid2')
        f.append('frac:%d'%min(4,int(4*n/max(1,sents[s0][1]-sents[s0][0]))))
    if 'wrep' in FEATS:
        m=max([counts.get(w,1) for w in ws if re.match(r'\w',w) and w not in STOP] or [1])
        f.append('wrep:'+('1' if m<=1 else '2' if m==2 else '3-4' if m<=4 else '5+'))
    if 'quote' in FEATS:
        if any(t[2] in ('"',"'") for t in toks[max(0,a-1):min(len(toks),b+1)]): f.append('quoted')
        if b<len(toks) and toks[b][2] in '!?': f.append('rp:'+toks[b][2])
    return f
STOP=set('a an the this that of in on at by for with from to and or but is are was were be been it its he she they we you i his her their our as not'.split())
rows=[];y=[];ishold=[]
for d in docs:
    text=d['text']
    toks=[]
    for m in TOK.finditer(text): toks.append((m.start(),m.end(),norm(m.group()),m.group()))
    # sentences: split on newline or .!? followed by space
    sents=[];st=0
    for i,t in enumerate(toks):
        if i+1<len(toks) and (t[3] in '.!?' or '\n' in text[t[1]:toks[i+1][0]]):
            sents.append((st,i+1)); st=i+1
    sents.append((st,len(toks)))
    words=[t[2] for t in toks if re.match(r'\w',t[2])]
    counts=collections.Counter(words)
    joined=' '+' '.join(words)+' '
    cache={}
    for s in d['spans']:
        a=next((i for i,t in enumerate(toks) if t[1]>s['start']),None)
        b=None
        for i,t in enumerate(toks):
            if t[0]<s['end']: b=i+1
        if a is None or b is None or b<=a: continue
        ws=[t[2] for t in toks[a:b] if re.match(r'\w',t[2])]
        key=' '.join(ws)
        if len(ws)>1 and key not in counts:
            counts[key]=max(1,joined.count(' '+key+' '))
        rows.append(feats(d,toks,a,b,counts,sents)); y.append(s['technique']); ishold.append(d['id'] in hold)
ishold=np.array(ishold)
vocab={};df=collections.Counter()
for i,r in enumerate(rows):
    if not ishold[i]: df.update(set(r))
keep=[f for f,c in df.items() if c>=2]
keep.sort(key=lambda f:(-df[f],f)); keep=keep[:int(sys.argv[2]) if len(sys.argv)>2 else 12000]
vocab={f:i for i,f in enumerate(keep)}
def mat(idx):
    data=[];ind=[];ptr=[0]
    for i in idx:
        cols=sorted({vocab[f] for f in rows[i] if f in vocab})
        v=1/math.sqrt(max(1,len(cols)))
        ind+=cols;data+=[v]*len(cols);ptr.append(len(ind))
    return sparse.csr_matrix((data,ind,ptr),shape=(len(idx),len(vocab)))
tr=[i for i in range(len(rows)) if not ishold[i]]; te=[i for i in range(len(rows)) if ishold[i]]
cnt=collections.Counter(y[i] for i in tr)
tr2=[]
for i in tr:
    c=cnt[y[i]]; extra=min(4,-(-300//c))-1 if c<300 else 0
    tr2+=[i]*(1+extra)
C=float(sys.argv[3]) if len(sys.argv)>3 else 1.0
clf=LogisticRegression(C=C,max_iter=2000)
clf.fit(mat(tr2),[y[i] for i in tr2])
p=clf.predict(mat(te))
print(sorted(FEATS), 'feats',len(vocab),'C',C,'micro-F1 %.4f'%f1_score([y[i] for i in te],p,average='micro'), 'n_test',len(te))
