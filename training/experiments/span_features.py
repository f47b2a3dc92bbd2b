import os, json, re, sys, collections, numpy as np, hashlib
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_extraction import FeatureHasher
from sklearn.preprocessing import normalize
from sklearn.metrics import roc_auc_score
from common import ROOT, D, lex, mpqa, TOK, norm
O=set(sys.argv[1].split(','))
def shape(s):
    if len(s)==1 and not s.isalnum(): return 'p'
    if s.isdigit(): return '0'
    if s.isupper() and len(s)>1: return 'X'
    if s[0].isupper(): return 'Xx'
    return 'x'
def load(path):
    docs=[]
    for l in open(path):
        d=json.loads(l); t=d['text']; spans=d.get('si_spans') or d['spans']
        sents=[];pos=0
        for s in re.split(r'(?<=[.!?])\s+|\n+',t):
            if not s.strip(): continue
            a=t.find(s,pos); b=a+len(s); pos=b
            toks=[(a+m.start(),a+m.end(),norm(m.group()),shape(m.group())) for m in TOK.finditer(s)]
            gold=[any(sp['start']<e and st<sp['end'] for sp in spans) for st,e,_,_ in toks]
            sents.append((toks,gold))
        docs.append((d['id'],sents))
    return docs
tr=load(D+'ptc/train.jsonl'); dv=load(D+'ptc/dev.jsonl')
CL={}
if 'clu' in O:
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD
    seqs=[[t[2] for t in s[0]] for _,ss in tr for s in ss]
    for l in open(D+'babe/train.jsonl'):
        seqs.append([norm(m.group()) for m in TOK.finditer(json.loads(l)['text'])])
    cnt=collections.Counter(w for q in seqs for w in q)
    vocab=[w for w,c in cnt.items() if c>=3]; vi={w:i for i,w in enumerate(vocab)}
    ctxw=[w for w,c in cnt.most_common(2000)]; ci={w:i for i,w in enumerate(ctxw)}
    rows=[];cols=[]
    for q in seqs:
        for i,w in enumerate(q):
            if w not in vi: continue
            for k in (-2,-1,1,2):
                j=i+k
                if 0<=j<len(q) and q[j] in ci: rows.append(vi[w]); cols.append(ci[q[j]]*4+(k+2 if k<0 else k+1))
    M=sparse.csr_matrix((np.ones(len(rows)),(rows,cols)),shape=(len(vocab),len(ctxw)*4))
    tot=M.sum(); pw=np.asarray(M.sum(1)).ravel(); pc=np.asarray(M.sum(0)).ravel()
    M=M.tocoo(); v=np.log(M.data*tot/(pw[M.row]*pc[M.col])); v=np.maximum(v,0)
    M=sparse.csr_matrix((v,(M.row,M.col)),shape=M.shape)
    E=TruncatedSVD(100,random_state=0).fit_transform(M); E=normalize(E)
    K=int(os.environ.get('K','256'))
    lab=MiniBatchKMeans(K,random_state=0,n_init=3).fit_predict(E)
    CL={w:lab[i] for i,w in enumerate(vocab)}
    print('clusters',K,'vocab',len(vocab))
# sentence head, 2-fold OOF on train
def sterms(toks):
    ws=[t[2] for t in toks]; f=[]
    for i,w in enumerate(ws):
        f.append('w:'+w)
        if i+1<len(ws): f.append('b:'+w+' '+ws[i+1])
        for tg in lex.get(w,()): f.append('lx:'+tg)
    return f
def fit_sent(docs):
    X=[sterms(s[0]) for _,ss in docs for s in ss]; Y=[any(s[1]) for _,ss in docs for s in ss]
    tv=TfidfVectorizer(analyzer=lambda x:x,sublinear_tf=True,min_df=2); A=tv.fit_transform(X)
    c=LogisticRegression(C=1,max_iter=2000).fit(A,Y)
    return lambda toks: c.predict_proba(tv.transform([sterms(toks)]))[0,1]
fold=lambda i: int(hashlib.md5(i.encode()).hexdigest(),16)%2
h=[fit_sent([d for d in tr if fold(d[0])!=k]) for k in (0,1)]
hall=fit_sent(tr)
def tfeats(toks,i,sp,ctx):
    W=lambda k: '<s>' if i+k<0 else (toks[i+k][2] if i+k<len(toks) else '</s>')
    f=['bias','w0:'+W(0)]
    rng=(1,2,3) if 'w3' in O else (1,2)
    for k in rng: f+=['w-%d:'%k+W(-k),'w+%d:'%k+W(k)]
    f+=['b-1:'+W(-1)+' '+W(0),'b+1:'+W(0)+' '+W(1)]
    w=toks[i][2]
    if len(w)>4: f.append('suf:'+w[-3:])
    if 'pre' in O and len(w)>4: f.append('pre:'+w[:3])
    f.append('sh0:'+toks[i][3])
    for k in (-2,-1,0,1,2):
        j=i+k
        if 0<=j<len(toks):
            for tg in lex.get(toks[j][2],()): f.append('lx%d:'%k+tg)
            if 'mpqa' in O:
                for tg in mpqa.get(toks[j][2],()): f.append('mq%d:'%k+tg)
    b=min(9,int(sp*10)); f+=['sp:%d'%b,'spw:%d %s'%(b//2,W(0))]
    if ctx['quoted'][i]: f.append('quoted')
    f.append('dens:%d'%min(4,ctx['dens'][i]))
    if 'rep' in O:
        c=ctx['dcount'].get(w,1); f.append('rep:'+('1' if c<=1 else '2' if c==2 else '3-5' if c<=5 else '6+'))
    if 'doc' in O:
        f.append('doc:%d'%min(4,int(ctx['docmax']*5)))
        f.append('docsp:%d %d'%(min(4,int(ctx['docmax']*5)), b//2))
    if 'pos' in O:
        f.append('rel:%d'%min(3,int(4*i/len(toks))))
        f.append('sidx:%d'%min(3,ctx['sidx']))
    if CL:
        for k in (-1,0,1):
            j=i+k
            if 0<=j<len(toks) and toks[j][2] in CL: f.append('cl%d:%d'%(k,CL[toks[j][2]]))
    if i==0: f.append('first')
    if i==len(toks)-1: f.append('last')
    return f
def doc_rows(docs,probf,sub):
    X=[];Y=[];G=[]
    rng=np.random.RandomState(1)
    for di,(id_,ss) in enumerate(docs):
        probs=[probf(id_,s[0]) if s[0] else 0 for s in ss]
        dcount=collections.Counter(t[2] for s in ss for t in s[0])
        docmax=max(probs) if probs else 0
        for si,((toks,gold),sp) in enumerate(zip(ss,probs)):
            q=False; quoted=[]
            for t in toks:
                if t[2]=='"': q=not q; quoted.append(False)
                else: quoted.append(q)
            hits=[1 if lex.get(t[2]) else 0 for t in toks]
            dens=[sum(hits[max(0,i-3):i])+sum(hits[i+1:i+4]) for i in range(len(toks))]
            ctx=dict(quoted=quoted,dens=dens,dcount=dcount,docmax=docmax,sidx=si)
            for i in range(len(toks)):
                if sub and rng.rand() > (0.5 if gold[i] else 0.12): continue
                X.append(tfeats(toks,i,sp,ctx)); Y.append(gold[i])
    return X,Y
Xt,Yt=doc_rows(tr,lambda id_,t: h[fold(id_)](t),True)
Xd,Yd=doc_rows(dv,lambda id_,t: hall(t),False)
fh=FeatureHasher(2**22,input_type='string',alternate_sign=False)
A=fh.transform(Xt); Ad=fh.transform(Xd)
df=np.asarray((A>0).sum(0)).ravel(); keep=np.where(df>=3)[0]
A=A[:,keep]; Ad=Ad[:,keep]
if "k8" in O:
    from sklearn.feature_selection import chi2, SelectKBest
    s_=SelectKBest(chi2,k=8000).fit(A,Yt); A=s_.transform(A); Ad=s_.transform(Ad); keep=keep[:8000]
C=float(sys.argv[2]) if len(sys.argv)>2 else 0.5
clf=LogisticRegression(C=C,max_iter=3000).fit(A,Yt)
p=clf.predict_proba(Ad)[:,1]
print(sorted(O),'C',C,'features',len(keep),'rows',len(Yt),'dev token AUC %.4f'%roc_auc_score(Yd,p))
